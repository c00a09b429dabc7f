//! The operations on a task's own values: scanning a row into variables, recording a value
//! for the invariants, adding, and branching on a comparison.

use super::super::*;

impl World {
    /// `rows.Scan(&a, &b)`: the current row's values into variables.
    pub(in crate::world::driver) fn exec_scan(
        &mut self,
        id: TaskId,
        rows: String,
        into: Vec<String>,
        events: &mut Vec<Event>,
    ) {
        let current = match self.var(id, &rows) {
            Some(Var::Rows(r)) => self.rows.get(r).and_then(|r| r.current.clone()),
            _ => None,
        };
        match current {
            Some(values) => {
                for (i, name) in into.iter().enumerate() {
                    let v = values.get(i).cloned().flatten();
                    self.set_var(id, name, Var::Value(v));
                }
                self.succeed(id, events);
            }
            None => self.fail(id, error("sql: Scan called without calling Next"), events),
        }
    }

    /// Records a variable's value for the scenario's invariants.
    pub(in crate::world::driver) fn exec_record(
        &mut self,
        id: TaskId,
        var: String,
        events: &mut Vec<Event>,
    ) {
        let value = self.value_of(id, &var);
        let name = self.tasks[id.0 as usize].name.clone();
        self.records.push(Record {
            task: name.clone(),
            var: var.clone(),
            value: value.clone(),
        });
        events.push(Event::ValueRecorded {
            task: id,
            name,
            var,
            value,
        });
        self.advance(id, events);
    }

    /// `into := a + b + ...` over integer operands.
    pub(in crate::world::driver) fn exec_add(
        &mut self,
        id: TaskId,
        into: String,
        of: Vec<String>,
        events: &mut Vec<Event>,
    ) {
        let mut sum: i64 = 0;
        for operand in &of {
            let text = self.operand(id, operand).unwrap_or_default();
            match text.trim().parse::<i64>() {
                Ok(n) => sum = sum.saturating_add(n),
                Err(_) => {
                    return self.fail(
                        id,
                        error(format!(
                            "lockstep: `{operand}` = `{text}` is not an integer"
                        )),
                        events,
                    )
                }
            }
        }
        self.set_var(id, &into, Var::Value(Some(sum.to_string())));
        self.advance(id, events);
    }
}
