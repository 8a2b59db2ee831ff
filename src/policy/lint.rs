//! `policy check` warnings: rules that load fine but can never matter — a role that grants
//! nothing, a condition made moot by an unconditional grant, a condition on a claim that is
//! never a string, and (given the server's `tools/list`) tools no rule or no role can reach.

use std::collections::BTreeSet;

use super::{ArgMatch, Grants, Policy};

/// Claims the JWT registry defines as numbers: an argument condition on them never matches.
const NUMERIC_CLAIMS: [&str; 3] = ["exp", "iat", "nbf"];

impl Policy {
    /// Warnings about this policy; `offered` is the upstream's tool names, when known.
    pub fn lint(&self, offered: Option<&[String]>) -> Vec<String> {
        let mut warnings = Vec::new();
        let mut roles: Vec<(&String, &Grants)> = self.roles.iter().collect();
        roles.sort_by_key(|(name, _)| name.as_str());
        for (role, grants) in &roles {
            lint_role(role, grants, &mut warnings);
        }
        if let Some(offered) = offered {
            self.lint_against_server(&roles, offered, &mut warnings);
        }
        warnings
    }

    fn lint_against_server(
        &self,
        roles: &[(&String, &Grants)],
        offered: &[String],
        out: &mut Vec<String>,
    ) {
        let offered: BTreeSet<&str> = offered.iter().map(String::as_str).collect();
        for (role, grants) in roles {
            let mut named: Vec<&String> = grants.tools.keys().collect();
            named.sort();
            for tool in named.into_iter().filter(|t| !offered.contains(t.as_str())) {
                out.push(format!(
                    "roles.{role}.tools.{tool} can never match: the server offers no tool '{tool}'"
                ));
            }
        }
        for tool in &offered {
            let reachable = roles
                .iter()
                .any(|(_, g)| !g.any_tool.is_empty() || g.tools.contains_key(*tool));
            if !reachable {
                out.push(format!(
                    "tool '{tool}' is offered by the server but no role may call it"
                ));
            }
        }
    }
}

fn lint_role(role: &str, g: &Grants, out: &mut Vec<String>) {
    if g.methods.is_empty()
        && g.tools.is_empty()
        && g.any_tool.is_empty()
        && g.resources.is_empty()
        && g.prompts.is_empty()
    {
        out.push(format!("role '{role}' grants nothing beyond the plumbing"));
    }
    let unconditional_any = g.any_tool.iter().find(|r| r.when.is_empty());
    let mut tools: Vec<_> = g.tools.iter().collect();
    tools.sort_by_key(|(name, _)| name.as_str());
    for (tool, rules) in tools {
        let unconditional = rules
            .iter()
            .find(|r| r.when.is_empty())
            .or(unconditional_any);
        for rule in rules.iter().filter(|r| !r.when.is_empty()) {
            if let Some(open) = unconditional {
                out.push(format!(
                    "role '{role}': the condition in {} never matters; {} allows '{tool}' unconditionally",
                    rule.rule, open.rule
                ));
            }
        }
    }
    for rule in g.tools.values().flatten().chain(&g.any_tool) {
        for (arg, expected) in &rule.when {
            if let ArgMatch::Claim(claim) = expected {
                if NUMERIC_CLAIMS.contains(&claim.as_str()) {
                    out.push(format!(
                        "{}: the condition on '{arg}' can never match: claim '{claim}' is a number, not a string",
                        rule.rule
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_policy_is_clean_against_the_mock_server() {
        let p = Policy::from_yaml(include_str!("../../policy/hospital.yaml")).unwrap();
        let tools: Vec<String> = [
            "get_patient",
            "get_medical_records",
            "search_patients",
            "list_appointments",
            "get_billing",
            "add_clinical_note",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(p.lint(Some(&tools)), Vec::<String>::new());
    }

    #[test]
    fn dead_rules_are_reported() {
        let p = Policy::from_yaml(
            "roles:\n  Empty: {}\n  Nurse:\n    tools:\n      - get_chart\n      - {name: get_chart, when: {patient_id: {claim: patient_id}}}\n      - {name: x, when: {n: {claim: exp}}}\n",
        )
        .unwrap();
        let w = p.lint(Some(&["get_patient".to_string()])).join("\n");
        assert!(w.contains("role 'Empty' grants nothing"), "{w}");
        assert!(
            w.contains("condition in roles.Nurse.tools.get_chart never matters"),
            "{w}"
        );
        assert!(w.contains("claim 'exp' is a number"), "{w}");
        assert!(
            w.contains("roles.Nurse.tools.get_chart can never match: the server offers no tool"),
            "{w}"
        );
        assert!(
            w.contains("tool 'get_patient' is offered by the server but no role may call it"),
            "{w}"
        );
    }
}
