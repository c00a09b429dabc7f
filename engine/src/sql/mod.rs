//! The SQL subset: lexer, syntax tree and a recursive-descent parser whose errors name the
//! position of the problem.
