//! The extractive summary and sentiment of a hand-over's context package (until an AI provider
//! writes better ones).

/// Most characters of the summary.
const SUMMARY_CHARS: usize = 600;

/// What the customer said, oldest first, cut to a readable length.
pub fn summary(said: &[&str]) -> String {
    if said.is_empty() {
        return "The customer has not written anything.".into();
    }
    let mut out = String::from("The customer wrote: ");
    for (i, s) in said.iter().enumerate() {
        if i > 0 {
            out.push_str(" / ");
        }
        out.push_str(s.trim());
        if out.chars().count() > SUMMARY_CHARS {
            let cut: String = out.chars().take(SUMMARY_CHARS).collect();
            return cut + "…";
        }
    }
    out
}

/// (sentiment, frustrated) of everything the customer said, by the offline AI's lexicon.
pub fn sentiment(said: &[&str]) -> (String, bool) {
    let score = baton_ai::sentiment::analyze(&said.join("\n"));
    (score.label().to_string(), score.frustrated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_angry_customer_reads_negative_and_frustrated() {
        let (label, frustrated) = sentiment(&["Still waiting, third time I ask. This is ridiculous!"]);
        assert_eq!(label, "negative");
        assert!(frustrated);
        assert_eq!(sentiment(&["thanks, that helps"]).0, "positive");
    }
}
