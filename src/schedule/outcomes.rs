//! The call loop (DOMAIN.md, "Interviews"): from the outcomes the interviewers record, who
//! is done, who gets further attempts, and who is replaced, strictly in reserve order.
//!
//! [`follow_up`] is a pure function of the call sheet and all outcomes recorded so far, so
//! each round re-derives the same replacements from the same (cumulative) outcomes: a reserve
//! brought in by an earlier round is brought in again, in the same place.

use std::collections::{BTreeMap, VecDeque};

use super::{Customer, Unplanned};

/// What one call attempt ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// The interview was done (完成).
    Completed,
    /// The customer declined (拒访): replaced.
    Refused,
    /// The number does not reach the customer (空号/错号): replaced.
    WrongNumber,
    /// The team gives up on the customer (无法联系): replaced.
    Unreachable,
    /// No answer (无人接听): tried again while attempts are left.
    NoAnswer,
    /// Busy (占线): tried again while attempts are left.
    Busy,
    /// Asked to be called back (改约): tried again while attempts are left.
    Callback,
}

impl Outcome {
    pub fn parse(s: &str) -> Option<Outcome> {
        Some(
            match s.trim().to_lowercase().replace([' ', '-'], "_").as_str() {
                "completed" | "complete" | "done" | "完成" | "成功" | "已完成" => {
                    Outcome::Completed
                }
                "refused" | "refusal" | "拒访" | "拒绝" => Outcome::Refused,
                "wrong_number" | "invalid_number" | "空号" | "错号" | "号码错误" => {
                    Outcome::WrongNumber
                }
                "unreachable" | "无法联系" | "联系不上" => Outcome::Unreachable,
                "no_answer" | "noanswer" | "无人接听" | "未接" | "未接通" => {
                    Outcome::NoAnswer
                }
                "busy" | "占线" => Outcome::Busy,
                "callback" | "call_back" | "改约" | "回拨" => Outcome::Callback,
                _ => return None,
            },
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Completed => "completed",
            Outcome::Refused => "refused",
            Outcome::WrongNumber => "wrong_number",
            Outcome::Unreachable => "unreachable",
            Outcome::NoAnswer => "no_answer",
            Outcome::Busy => "busy",
            Outcome::Callback => "callback",
        }
    }

    /// Whether the customer is replaced after this outcome.
    fn fails(self) -> bool {
        matches!(
            self,
            Outcome::Refused | Outcome::WrongNumber | Outcome::Unreachable
        )
    }
}

/// A customer of the call sheet, selected or reserve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRow {
    pub customer: Customer,
    pub reserve: bool,
}

/// One logged replacement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub outlet_id: String,
    pub replaced: String,
    pub reason: String,
    pub by: String,
    pub by_call_order: u64,
}

/// Where every customer stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FollowUp {
    /// Customers to call now, with the attempts they already had.
    pub to_call: Vec<Customer>,
    pub completed: Vec<String>,
    pub replacements: Vec<Replacement>,
    /// Failed customers with no reserve left.
    pub unplanned: Vec<Unplanned>,
}

/// Works out the next round. `outcomes` maps a unit id to its recorded outcomes in attempt
/// order; `attempts` is the number of attempts after which a customer who never answered
/// counts as unreachable.
pub fn follow_up(
    sheet: &[SheetRow],
    outcomes: &BTreeMap<String, Vec<Outcome>>,
    attempts: u32,
) -> FollowUp {
    let mut by_outlet: BTreeMap<&str, (Vec<&Customer>, VecDeque<&Customer>)> = BTreeMap::new();
    for r in sheet {
        let e = by_outlet.entry(r.customer.outlet_id.as_str()).or_default();
        if r.reserve {
            e.1.push_back(&r.customer);
        } else {
            e.0.push(&r.customer);
        }
    }
    let mut f = FollowUp::default();
    for (outlet, (mut active, mut reserves)) in by_outlet {
        active.sort_by_key(|c| c.call_order);
        reserves.make_contiguous().sort_by_key(|c| c.call_order);
        let mut i = 0;
        while i < active.len() {
            let c = active[i];
            i += 1;
            let seen = outcomes.get(&c.unit_id).map(Vec::as_slice).unwrap_or(&[]);
            if seen.contains(&Outcome::Completed) {
                f.completed.push(c.unit_id.clone());
                continue;
            }
            let failed = match seen.iter().find(|o| o.fails()) {
                Some(o) => Some(o.as_str().to_string()),
                None if seen.len() as u32 >= attempts => {
                    Some(format!("no answer after {} attempts", seen.len()))
                }
                None => None,
            };
            match failed {
                None => {
                    let mut next = c.clone();
                    next.done = seen.len() as u32;
                    f.to_call.push(next);
                }
                Some(reason) => match reserves.pop_front() {
                    Some(r) => {
                        f.replacements.push(Replacement {
                            outlet_id: outlet.to_string(),
                            replaced: c.unit_id.clone(),
                            reason,
                            by: r.unit_id.clone(),
                            by_call_order: r.call_order,
                        });
                        active.push(r);
                    }
                    None => f.unplanned.push(Unplanned {
                        item: "customer",
                        id: c.unit_id.clone(),
                        what: "replacement".into(),
                        reason: format!("{reason}; no reserve left in outlet {outlet}"),
                    }),
                },
            }
        }
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(outlet: &str, id: &str, order: u64, reserve: bool) -> SheetRow {
        SheetRow {
            customer: Customer {
                outlet_id: outlet.into(),
                unit_id: id.into(),
                call_order: order,
                name: String::new(),
                phone: String::new(),
                done: 0,
            },
            reserve,
        }
    }

    #[test]
    fn failures_are_replaced_strictly_in_reserve_order() {
        let sheet = vec![
            row("O1", "a", 1, false),
            row("O1", "b", 2, false),
            row("O1", "c", 3, false),
            row("O1", "r2", 5, true),
            row("O1", "r1", 4, true),
            row("O2", "x", 1, false),
        ];
        let o = |v: &[Outcome]| v.to_vec();
        let outcomes: BTreeMap<String, Vec<Outcome>> = [
            ("a".to_string(), o(&[Outcome::NoAnswer, Outcome::Completed])),
            ("b".to_string(), o(&[Outcome::Refused])),
            (
                "c".to_string(),
                o(&[Outcome::NoAnswer, Outcome::Busy, Outcome::NoAnswer]),
            ),
            ("r1".to_string(), o(&[Outcome::WrongNumber])),
            ("x".to_string(), o(&[Outcome::NoAnswer])),
        ]
        .into();
        let f = follow_up(&sheet, &outcomes, 3);
        assert_eq!(f.completed, vec!["a"]);
        let reps: Vec<(&str, &str, &str)> = f
            .replacements
            .iter()
            .map(|r| (r.replaced.as_str(), r.by.as_str(), r.reason.as_str()))
            .collect();
        // b (refused) takes r1; c (unreachable) takes r2; r1 (wrong number) has none left.
        assert_eq!(
            reps,
            vec![
                ("b", "r1", "refused"),
                ("c", "r2", "no answer after 3 attempts")
            ]
        );
        assert_eq!(f.unplanned.len(), 1);
        assert_eq!(f.unplanned[0].id, "r1");
        let calls: Vec<(&str, u32)> = f
            .to_call
            .iter()
            .map(|c| (c.unit_id.as_str(), c.done))
            .collect();
        assert_eq!(calls, vec![("r2", 0), ("x", 1)]);
        assert_eq!(Outcome::parse("无人接听"), Some(Outcome::NoAnswer));
        assert_eq!(Outcome::parse("No Answer"), Some(Outcome::NoAnswer));
        assert_eq!(Outcome::parse("maybe"), None);
    }
}
