//! The `lockstep` command line: run isolation specs, check lessons, replay schedules.

use std::io::Write;

const USAGE: &str =
    "usage: lockstep spec FILE.spec...|- | check DIR [--json] [--seconds S] [--states N] | run LESSON [--fix F] [--knob NAME=VALUE]... [--schedule S | --seed N] [--dir DIR]";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        // Subcommands are added here, one arm each.
        Some("spec") => spec(&args[1..]),
        Some("check") => check(&args[1..]),
        Some("run") => run(&args[1..]),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            0
        }
        _ => {
            eprintln!("{USAGE}");
            2
        }
    };
    std::process::exit(code);
}

/// `lockstep spec FILE.spec...` (`-` for standard input): prints isolationtester's output for
/// each spec, each step's lines as soon as the step is reported.
fn spec(files: &[String]) -> i32 {
    if files.is_empty() {
        eprintln!("{USAGE}");
        return 2;
    }
    // Like isolationtester, PGISOLATIONTIMEOUT (seconds) bounds how long a step may block
    // before it is cancelled; on the virtual clock this only matters to broken permutations.
    let options = match std::env::var("PGISOLATIONTIMEOUT") {
        Ok(text) => match lockstep::spec::RunOptions::with_timeout(&text) {
            Ok(options) => options,
            Err(e) => {
                eprintln!("{e}");
                return 2;
            }
        },
        Err(_) => lockstep::spec::RunOptions::default(),
    };
    let mut code = 0;
    for file in files {
        if let Err(e) = spec_file(file, &options) {
            eprintln!("{file}: {e}");
            code = 1;
        }
    }
    code
}

/// Reads, checks and runs one spec, writing its output as it comes.
fn spec_file(file: &str, options: &lockstep::spec::RunOptions) -> Result<(), String> {
    let text = if file == "-" {
        lockstep::spec::read_text(std::io::stdin().lock())?
    } else {
        let opened = std::fs::File::open(file).map_err(|e| e.to_string())?;
        lockstep::spec::read_text(opened)?
    };
    let spec = lockstep::spec::parse::Spec::parse(&text).map_err(|e| e.to_string())?;
    spec.validate()?;
    let mut out = std::io::stdout().lock();
    lockstep::spec::run_into(&spec, options, &mut |piece| {
        if out
            .write_all(piece.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            // A closed pipe (`| head`): nobody reads the rest, so stop quietly.
            std::process::exit(0);
        }
    })
}

/// Reads every lesson of a lessons folder, in the order of its `catalogue.toml`.
fn read_lessons(dir: &std::path::Path) -> Result<Vec<lockstep::lesson::Lesson>, String> {
    #[derive(serde::Deserialize)]
    struct Catalogue {
        lessons: Vec<String>,
    }
    let path = dir.join("catalogue.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let catalogue: Catalogue = toml::from_str(&text).map_err(|e| {
        format!(
            "{}: {}",
            path.display(),
            lockstep::lesson::toml_error(&text, &e)
        )
    })?;
    catalogue
        .lessons
        .iter()
        .map(|slug| {
            let path = dir.join(slug).join("lesson.toml");
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let file = path.display().to_string();
            let lesson = lockstep::lesson::parse(&file, &text).map_err(|e| e.to_string())?;
            lockstep::lesson::check_folder(&lesson, slug).map_err(|e| format!("{file}: {e}"))?;
            Ok(lesson)
        })
        .collect()
}

/// The command line's budget on each search: wall-clock seconds, checked between slices (the
/// engine has no clock), and a progress line on stderr every [`PROGRESS_SECONDS`] while a
/// search runs long.
struct Clock {
    what: String,
    seconds: u64,
    started: std::time::Instant,
    reported: std::time::Instant,
}

/// How often a long search says how far it has come, on stderr.
const PROGRESS_SECONDS: u64 = 5;

impl Clock {
    fn new(seconds: u64) -> Clock {
        let now = std::time::Instant::now();
        Clock {
            what: String::new(),
            seconds,
            started: now,
            reported: now,
        }
    }
}

impl lockstep::explore::Budget for Clock {
    fn begin(&mut self, what: &str) {
        self.what = what.to_string();
        self.started = std::time::Instant::now();
        self.reported = self.started;
    }

    fn spent(&mut self, progress: &lockstep::explore::Progress) -> Option<String> {
        let elapsed = self.started.elapsed();
        if elapsed.as_secs() >= self.seconds {
            return Some(format!("the time budget of {} s", self.seconds));
        }
        if self.reported.elapsed().as_secs() >= PROGRESS_SECONDS {
            self.reported = std::time::Instant::now();
            eprintln!(
                "check: {}: {} states, {} steps, depth {}, {:.0} s of {} s",
                self.what,
                progress.states_unique,
                progress.transitions,
                progress.depth,
                elapsed.as_secs_f64(),
                self.seconds
            );
        }
        None
    }
}

/// The value after `--name`, parsed as a positive number; `Ok(None)` when the flag is absent.
fn number_flag(args: &[String], name: &str) -> Result<Option<u64>, String> {
    let Some(at) = args.iter().position(|a| a == name) else {
        return Ok(None);
    };
    let text = args.get(at + 1).map(String::as_str).unwrap_or_default();
    match text.parse::<u64>() {
        Ok(n) if n > 0 => Ok(Some(n)),
        _ => Err(format!(
            "{name} needs a positive whole number, not {text:?}"
        )),
    }
}

/// `lockstep check DIR [--json] [--seconds S] [--states N]`: for every lesson, the explorer
/// finds the bug from scratch, proves every real fix and shows every partial fix failing, and
/// every challenge is solvable by its solution (with the shortest schedule of clicks printed).
/// Each search stops at N distinct states or S seconds and then says it did not finish.
/// Exit status 1 if anything is not as promised.
fn check(args: &[String]) -> i32 {
    let json = args.iter().any(|a| a == "--json");
    let flags = (
        number_flag(args, "--seconds"),
        number_flag(args, "--states"),
    );
    let (seconds, states) = match flags {
        (Ok(seconds), Ok(states)) => (seconds, states),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("{e}\n{USAGE}");
            return 2;
        }
    };
    let Some(dir) = positional(args, &["--seconds", "--states"]) else {
        eprintln!("{USAGE}");
        return 2;
    };
    let lessons = match read_lessons(std::path::Path::new(dir)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let mut limits = lockstep::explore::Limits {
        depth_max: lockstep::limits::CHECK_DEPTH_MAX,
        ..Default::default()
    };
    if let Some(states) = states {
        limits.states_max = usize::try_from(states).unwrap_or(usize::MAX);
    }
    let mut clock = Clock::new(seconds.unwrap_or(lockstep::limits::CHECK_SECONDS_PER_SEARCH));
    let started = std::time::Instant::now();
    let mut all_ok = true;
    let mut results = Vec::new();
    for lesson in &lessons {
        match lockstep::explore::world::check_lesson_within(lesson, limits, &mut clock) {
            Ok(checks) => {
                let challenges =
                    lockstep::analysis::challenges::check_all_within(lesson, limits, &mut clock);
                all_ok &= checks.iter().all(|c| c.ok) && challenges.iter().all(|c| c.ok);
                if !json {
                    println!("{}", lesson.slug);
                    for c in &checks {
                        println!("  {c}");
                    }
                    for c in &challenges {
                        println!("  {c}");
                    }
                }
                results.push(serde_json::json!({
                    "lesson": lesson.slug,
                    "checks": checks,
                    "challenges": challenges,
                }));
            }
            Err(e) => {
                eprintln!("{}: {e}", lesson.slug);
                all_ok = false;
            }
        }
    }
    let elapsed = started.elapsed();
    if json {
        let out = serde_json::json!({ "ok": all_ok, "seconds": elapsed.as_secs_f64(), "lessons": results });
        println!("{out:#}");
    } else {
        println!(
            "check: {} lessons, {} in {:.2}s",
            lessons.len(),
            if all_ok {
                "all as promised"
            } else {
                "SOME NOT AS PROMISED"
            },
            elapsed.as_secs_f64()
        );
    }
    i32::from(!all_ok)
}

/// The first argument that is neither a flag nor the value of one of `valued` flags.
fn positional<'a>(args: &'a [String], valued: &[&str]) -> Option<&'a String> {
    let mut skip = false;
    for arg in args {
        if std::mem::take(&mut skip) {
            continue;
        }
        if valued.contains(&arg.as_str()) {
            skip = true;
        } else if !arg.starts_with("--") {
            return Some(arg);
        }
    }
    None
}

/// `lockstep run LESSON [--fix F] [--knob NAME=VALUE]... [--schedule S | --seed N] [--dir DIR]`:
/// replays a schedule (the lesson's bug schedule by default), or runs the one seed N picks
/// (the engine's seeded scheduler, the same natively and in the browser) and prints it,
/// printing every event's narration, then the final status. An unknown lesson, fix, knob or
/// task is refused with the ones there are.
fn run(args: &[String]) -> i32 {
    let mut slug = None;
    let mut fix = None;
    let mut knobs = Vec::new();
    let mut schedule = None;
    let mut seed = None;
    let mut dir = "lessons".to_string();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned();
        match args[i].as_str() {
            "--fix" => fix = value,
            "--knob" => knobs.extend(value),
            "--schedule" => schedule = value,
            "--seed" => seed = value,
            "--dir" => dir = value.unwrap_or(dir),
            other if !other.starts_with("--") => {
                slug = Some(other.to_string());
                i += 1;
                continue;
            }
            other => {
                eprintln!("unknown option {other}\n{USAGE}");
                return 2;
            }
        }
        i += 2;
    }
    let Some(slug) = slug else {
        eprintln!("{USAGE}");
        return 2;
    };
    let lessons = match read_lessons(std::path::Path::new(&dir)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let Some(lesson) = lessons.iter().find(|l| l.slug == slug) else {
        let known: Vec<&str> = lessons.iter().map(|l| l.slug.as_str()).collect();
        eprintln!(
            "no lesson {slug} in {dir}; the lessons are {}",
            known.join(", ")
        );
        return 1;
    };
    if let Some(Err(e)) = fix.as_deref().map(|f| lesson.fix_named(f)) {
        eprintln!("--fix: {e}");
        return 2;
    }
    let scenario = match knob_values(&knobs).and_then(|values| {
        lesson
            .scenario_at(fix.as_deref(), &values)
            .map_err(|e| format!("--knob: {e}"))
    }) {
        Ok(scenario) => scenario,
        Err(e) => {
            eprintln!("{e}");
            return 2;
        }
    };
    if let Some(seed) = seed {
        if schedule.is_some() {
            eprintln!("--seed and --schedule: give one or the other");
            return 2;
        }
        return match seed.parse::<u64>() {
            Ok(seed) => run_seeded(&scenario, seed),
            Err(_) => {
                eprintln!(
                    "--seed: expected a whole number from 0 to {}, got {seed}",
                    u64::MAX
                );
                2
            }
        };
    }
    let text = schedule.unwrap_or_else(|| lesson.schedule_for(fix.as_deref()).to_string());
    let parsed = match text.parse::<lockstep::world::Schedule>() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("--schedule: {e}");
            return 2;
        }
    };
    match lockstep::world::World::replay(&scenario, &parsed) {
        Ok((world, events)) => {
            // A closed pipe (`| head`) ends the output quietly instead of panicking.
            let mut out = std::io::stdout().lock();
            for event in &events {
                if writeln!(out, "{}", event.narration()).is_err() {
                    return 0;
                }
            }
            let _ = writeln!(out, "status: {:?}", world.status());
            0
        }
        Err(e) => {
            eprintln!("replay: {e}");
            1
        }
    }
}

/// Runs the schedule `seed` picks, at most `SCHEDULE_LENGTH_MAX` moves: its events, the
/// schedule itself (to replay with `--schedule`), and the final status.
fn run_seeded(scenario: &lockstep::world::Scenario, seed: u64) -> i32 {
    use lockstep::world::scheduler::{run, Seeded};
    let mut world = match lockstep::world::World::new(scenario) {
        Ok(world) => world,
        Err(e) => {
            eprintln!("{e}");
            return 1;
        }
    };
    let taken = match run(
        &mut world,
        &mut Seeded::new(seed),
        lockstep::limits::SCHEDULE_LENGTH_MAX,
    ) {
        Ok(taken) => taken,
        Err(e) => {
            eprintln!("seed {seed}: {e}");
            return 1;
        }
    };
    let mut out = std::io::stdout().lock();
    for event in &taken.events {
        if writeln!(out, "{}", event.narration()).is_err() {
            return 0;
        }
    }
    let _ = writeln!(out, "schedule: {}", taken.schedule);
    let _ = writeln!(out, "status: {:?}", world.status());
    0
}

/// `NAME=VALUE` settings of `--knob`, by name.
fn knob_values(settings: &[String]) -> Result<lockstep::lesson::KnobValues, String> {
    settings
        .iter()
        .map(|setting| {
            let (name, value) = setting
                .split_once('=')
                .ok_or_else(|| format!("--knob {setting}: write NAME=VALUE"))?;
            let value = value
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("--knob {setting}: the value must be a whole number"))?;
            Ok((name.trim().to_string(), value))
        })
        .collect()
}
