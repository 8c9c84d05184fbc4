//! edge-sandbox patch: global variables held in registers while a simple loop runs.
//!
//! A notebook's top-level `let`/`const` become properties of the global object, so a loop over
//! them reads and writes the global object on every access (`GetNameGlobal`, `SetName`), where
//! the same loop inside a function uses registers: a top-level `do { i++ } while (i < 1e6)`
//! ran 2.4-3.2x as long as inside a function.
//!
//! A loop qualifies when nothing in it can run guest code or observe the global object while it
//! runs: its statements are expressions, `var`, blocks with `let`/`const` (of plain names),
//! `if`, nested `for`/`while`/`do`, unlabelled `break`/`continue` and `throw`; its expressions
//! are literals, template literals, names, arithmetic, comparison, logical and bitwise
//! operators, `typeof`/`void`/`!`, `?:`, and assignments and updates of names. No calls,
//! property accesses, object, array, function or regex literals, `in`, `instanceof`, `delete`,
//! `this`, `yield` or `await`. Every
//! global name it uses is checked when the loop starts (`PromoteGlobal`): an own data property of
//! an ordinary global object (writable if the loop assigns it), resolved as compiled (no `with`,
//! no var-declaring eval), holding a primitive. Then no operation in the loop can call guest
//! code (operators on primitives call no `valueOf`/`toString`), so no one can see the globals
//! while they are in registers. If any check fails, the loop runs as compiled without
//! promotion: both versions are emitted.
//!
//! The registers are written back to the global object when the loop ends, however it ends: by
//! its condition, by `break`, or by an exception (a handler writes back and rethrows). Only an
//! uncatchable runtime limit skips the write-back, and the sandbox rolls such a cell back.

use super::{BindingKind, ByteCompiler, Register, ToJsString};
use boa_ast::{
    Declaration, Expression, Statement, StatementListItem,
    declaration::{Binding, LexicalDeclaration, VarDeclaration},
    expression::{
        literal::{LiteralKind, TemplateElement},
        operator::{
            assign::AssignTarget,
            binary::{BinaryOp, RelationalOp},
            unary::UnaryOp,
            update::UpdateTarget,
        },
    },
    scope::{BindingLocator, IdentifierReference, Scope},
    statement::iteration::ForLoopInitializer,
};
use boa_interner::Interner;

/// The most names one loop promotes (each costs a check when the loop starts).
const MAX_PROMOTED: usize = 16;

/// A global name a loop uses: where it resolves and whether the loop assigns it.
struct Use {
    reference: IdentifierReference,
    written: bool,
}

/// Walks a loop, collecting the global names it uses; `false` if the loop does not qualify.
struct Scan<'a> {
    interner: &'a Interner,
    uses: Vec<Use>,
}

impl Scan<'_> {
    fn name(
        &mut self,
        name: boa_ast::expression::Identifier,
        scope: &Scope,
        written: bool,
    ) -> bool {
        let reference = scope.get_identifier_reference(name.to_js_string(self.interner));
        if !reference.is_global_object() {
            // A binding of a function or block: a register or a declarative environment, which
            // no guest code can reach while the loop runs.
            return true;
        }
        let locator = reference.locator();
        if let Some(known) = self
            .uses
            .iter_mut()
            .find(|u| u.reference.locator() == locator)
        {
            known.written |= written;
            return true;
        }
        self.uses.push(Use { reference, written });
        self.uses.len() <= MAX_PROMOTED
    }

    fn expression(&mut self, expr: &Expression, scope: &Scope) -> bool {
        match expr {
            Expression::Identifier(name) => self.name(*name, scope, false),
            Expression::Literal(literal) => matches!(
                literal.kind(),
                LiteralKind::String(_)
                    | LiteralKind::Num(_)
                    | LiteralKind::Int(_)
                    | LiteralKind::BigInt(_)
                    | LiteralKind::Bool(_)
                    | LiteralKind::Null
                    | LiteralKind::Undefined
            ),
            Expression::Parenthesized(inner) => self.expression(inner.expression(), scope),
            Expression::Unary(unary) => {
                !matches!(unary.op(), UnaryOp::Delete) && self.expression(unary.target(), scope)
            }
            Expression::Update(update) => match update.target() {
                UpdateTarget::Identifier(name) => self.name(*name, scope, true),
                UpdateTarget::PropertyAccess(_) => false,
            },
            Expression::Assign(assign) => match assign.lhs() {
                AssignTarget::Identifier(name) => {
                    self.name(*name, scope, true) && self.expression(assign.rhs(), scope)
                }
                AssignTarget::Access(_) | AssignTarget::Pattern(_) => false,
            },
            Expression::Binary(binary) => {
                !matches!(
                    binary.op(),
                    BinaryOp::Relational(RelationalOp::In | RelationalOp::InstanceOf)
                ) && self.expression(binary.lhs(), scope)
                    && self.expression(binary.rhs(), scope)
            }
            // Substitutions of primitives are converted to strings without calling guest code.
            Expression::TemplateLiteral(template) => {
                template.elements().iter().all(|element| match element {
                    TemplateElement::String(_) => true,
                    TemplateElement::Expr(expr) => self.expression(expr, scope),
                })
            }
            Expression::Conditional(c) => {
                self.expression(c.condition(), scope)
                    && self.expression(c.if_true(), scope)
                    && self.expression(c.if_false(), scope)
            }
            _ => false,
        }
    }

    /// `let`/`const` of plain names (patterns would read properties).
    fn lexical(&mut self, decl: &LexicalDeclaration, scope: &Scope) -> bool {
        let (LexicalDeclaration::Let(list) | LexicalDeclaration::Const(list)) = decl else {
            return false;
        };
        list.as_ref().iter().all(|v| {
            matches!(v.binding(), Binding::Identifier(_))
                && v.init().is_none_or(|init| self.expression(init, scope))
        })
    }

    /// `var` of plain names: an assignment of each name that has an initializer.
    fn var(&mut self, decl: &VarDeclaration, scope: &Scope) -> bool {
        decl.0.as_ref().iter().all(|v| match v.binding() {
            Binding::Identifier(name) => v
                .init()
                .is_none_or(|init| self.name(*name, scope, true) && self.expression(init, scope)),
            Binding::Pattern(_) => false,
        })
    }

    fn statement(&mut self, stmt: &Statement, scope: &Scope) -> bool {
        match stmt {
            Statement::Empty => true,
            Statement::Expression(expr) => self.expression(expr, scope),
            Statement::Var(decl) => self.var(decl, scope),
            Statement::Block(block) => {
                let scope = block.scope().unwrap_or(scope);
                block
                    .statement_list()
                    .statements()
                    .iter()
                    .all(|item| match item {
                        StatementListItem::Statement(s) => self.statement(s, scope),
                        StatementListItem::Declaration(d) => match &**d {
                            Declaration::Lexical(decl) => self.lexical(decl, scope),
                            _ => false,
                        },
                    })
            }
            Statement::If(node) => {
                self.expression(node.cond(), scope)
                    && self.statement(node.body(), scope)
                    && node.else_node().is_none_or(|e| self.statement(e, scope))
            }
            Statement::WhileLoop(node) => {
                self.expression(node.condition(), scope) && self.statement(node.body(), scope)
            }
            Statement::DoWhileLoop(node) => {
                self.statement(node.body(), scope) && self.expression(node.cond(), scope)
            }
            Statement::ForLoop(node) => {
                let scope = match node.init() {
                    None => scope,
                    Some(ForLoopInitializer::Expression(expr)) => {
                        if !self.expression(expr, scope) {
                            return false;
                        }
                        scope
                    }
                    Some(ForLoopInitializer::Lexical(decl)) => {
                        if !self.lexical(decl.declaration(), decl.scope()) {
                            return false;
                        }
                        decl.scope()
                    }
                    Some(ForLoopInitializer::Var(decl)) => {
                        if !self.var(decl, scope) {
                            return false;
                        }
                        scope
                    }
                };
                node.condition().is_none_or(|c| self.expression(c, scope))
                    && node.final_expr().is_none_or(|e| self.expression(e, scope))
                    && self.statement(node.body(), scope)
            }
            // A labelled jump may leave the loop past the write-back.
            Statement::Break(node) => node.label().is_none(),
            Statement::Continue(node) => node.label().is_none(),
            Statement::Throw(node) => self.expression(node.target(), scope),
            _ => false,
        }
    }
}

impl ByteCompiler<'_> {
    /// Whether `binding` is a global name held in a register by the loop being compiled.
    pub(crate) fn is_promoted(&self, binding: &IdentifierReference) -> bool {
        self.promoted_register(&binding.locator()).is_some()
    }

    /// The register holding a promoted global, if `locator` is one.
    pub(crate) fn promoted_register(&self, locator: &BindingLocator) -> Option<u32> {
        if self.in_with {
            return None;
        }
        self.promoted_globals.get(locator).copied()
    }

    /// Compiles the loop `stmt` with its global names in registers, if it qualifies (see the
    /// module documentation), followed by the loop as compiled without them for when the check
    /// at the start fails. Returns `false`, having emitted nothing, if it does not qualify.
    pub(crate) fn compile_loop_with_promoted_globals(
        &mut self,
        stmt: &Statement,
        use_expr: bool,
    ) -> bool {
        if !self.global_names_by_value || self.in_with || self.promotion_off {
            return false;
        }
        let mut scan = Scan {
            interner: self.interner(),
            uses: Vec::new(),
        };
        let scope = self.lexical_scope.clone();
        // `Scan::name` fails past `MAX_PROMOTED` names.
        if !scan.statement(stmt, &scope) || scan.uses.is_empty() {
            return false;
        }
        let uses = scan.uses;
        // Each name's binding index, before anything is emitted.
        let mut indices = Vec::with_capacity(uses.len());
        for u in &uses {
            let BindingKind::Global(binding_index) = self.get_binding(&u.reference) else {
                return false;
            };
            indices.push(binding_index);
        }

        // The check: every name a primitive in a (writable) own data property.
        let ok = self.register_allocator.alloc();
        self.bytecode.emit_store_true(ok.variable());
        let mut promoted: Vec<(BindingKind, Register, bool)> = Vec::with_capacity(indices.len());
        for (u, binding_index) in uses.into_iter().zip(indices) {
            let index = BindingKind::Global(binding_index);
            let register = self.register_allocator.alloc();
            self.bytecode.emit_promote_global(
                register.variable(),
                ok.variable(),
                binding_index.into(),
                u32::from(u.written).into(),
            );
            self.promoted_globals
                .insert(u.reference.locator(), register.index());
            promoted.push((index, register, u.written));
        }
        let unpromoted = self.jump_if_false(&ok);
        self.register_allocator.dealloc(ok);
        // Loops inside are compiled as part of this one, never promoted on their own.
        self.promotion_off = true;

        // The loop over registers, inside a handler that writes back and rethrows.
        let handler = self.push_handler();
        self.compile_stmt(stmt, use_expr, true);
        self.promoted_globals.clear();
        self.write_back(&promoted);
        let done = self.jump();
        self.patch_handler(handler);
        let error = self.register_allocator.alloc();
        self.bytecode.emit_exception(error.variable());
        self.write_back(&promoted);
        self.bytecode.emit_throw(error.variable());
        self.register_allocator.dealloc(error);

        // The loop as compiled.
        self.patch_jump(unpromoted);
        self.compile_stmt(stmt, use_expr, true);
        self.patch_jump(done);
        self.promotion_off = false;

        for (_, register, _) in promoted {
            self.register_allocator.dealloc(register);
        }
        true
    }

    fn write_back(&mut self, promoted: &[(BindingKind, Register, bool)]) {
        for (index, register, written) in promoted {
            if *written {
                self.emit_binding_access(super::BindingAccessOpcode::SetName, index, register);
            }
        }
    }
}
