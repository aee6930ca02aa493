//! AWS regions: the real list, "did you mean" suggestions, and the region of the AWS profile.

/// Every public region of the aws, aws-cn, aws-us-gov and aws-eusc partitions, as listed by the
/// SDK's partition metadata. A region outside this list is almost always a typo.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eusc-de-east-1",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

pub fn is_known_region(region: &str) -> bool {
    REGIONS.contains(&region)
}

/// The closest real region to a mistyped one, if it is close enough to be what was meant.
pub fn suggest_region(input: &str) -> Option<&'static str> {
    let input = input.trim().to_ascii_lowercase();
    REGIONS
        .iter()
        .map(|r| (strsim::damerau_levenshtein(&input, r), *r))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, r)| r)
}

/// The message for a region that is not in the list, with a suggestion when there is one.
pub fn unknown_region_message(region: &str) -> (String, String) {
    let message = format!("'{region}' is not an AWS region");
    let hint = match suggest_region(region) {
        Some(s) => format!("did you mean {s}?"),
        None => "pass a region such as us-east-1 or eu-west-3 with --aws-region".to_string(),
    };
    (message, hint)
}

/// What to make of a region the user gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionCheck {
    Known,
    /// Well formed but not in the list: a region launched after this build, most likely. Used as
    /// given, with this warning.
    New {
        warning: String,
    },
    /// A near miss of a known region, or not shaped like a region at all.
    Invalid {
        message: String,
        hint: String,
    },
}

/// `area-words-N` in lower case: `eu-west-3`, `us-gov-west-1`, `xx-newzone-1`.
fn is_well_formed(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
}

/// Accept a known region; accept a well-formed unknown one with a warning (AWS launches regions
/// after any list is written) unless it is a near miss of a known one, which is refused with a
/// "did you mean". A new number in a known area (`ap-southeast-8`) is a launch, not a typo.
pub fn check_region(region: &str) -> RegionCheck {
    if is_known_region(region) {
        return RegionCheck::Known;
    }
    let invalid = || {
        let (message, hint) = unknown_region_message(region);
        RegionCheck::Invalid { message, hint }
    };
    if !is_well_formed(region) {
        return invalid();
    }
    let area = |r: &str| r.rsplit_once('-').map(|(a, _)| a.to_string());
    let known_area = REGIONS.iter().any(|r| area(r) == area(region));
    let near_miss = REGIONS
        .iter()
        .any(|r| strsim::damerau_levenshtein(region, r) <= 2);
    if near_miss && !known_area {
        return invalid();
    }
    RegionCheck::New {
        warning: format!(
            "'{region}' is not in tracectl's list of AWS regions; using it as given (a region \
             launched after this release?)"
        ),
    }
}

/// The region set in the shared AWS config files for the active profile (AWS_PROFILE or
/// "default"), as the AWS SDKs resolve it.
pub fn profile_region() -> Option<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ok()?;
    runtime.block_on(async {
        let provider = aws_config::profile::ProfileFileRegionProvider::builder().build();
        use aws_config::meta::region::ProvideRegion;
        provider.region().await.map(|r| r.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_regions() {
        assert!(is_known_region("eu-west-3"));
        assert!(is_known_region("us-gov-west-1"));
        assert!(!is_known_region("eu-west-9"));
        assert!(!is_known_region("EU-WEST-3"));
    }

    #[test]
    fn typos_get_a_suggestion() {
        assert_eq!(suggest_region("eu-wset-3"), Some("eu-west-3"));
        assert_eq!(suggest_region("euwest3"), Some("eu-west-3"));
        assert_eq!(suggest_region("EU-WEST-3"), Some("eu-west-3"));
        assert_eq!(suggest_region("us-east1"), Some("us-east-1"));
        assert_eq!(suggest_region("paris"), None);
        let (message, hint) = unknown_region_message("eu-wset-3");
        assert!(message.contains("'eu-wset-3'"));
        assert_eq!(hint, "did you mean eu-west-3?");
    }

    #[test]
    fn regions_launched_later_are_accepted_with_a_warning() {
        assert_eq!(check_region("eu-west-3"), RegionCheck::Known);
        for new in [
            "xx-newzone-1",
            "ap-southeast-8",
            "eu-west-4",
            "us-gov-central-1",
        ] {
            match check_region(new) {
                RegionCheck::New { warning } => assert!(warning.contains(new), "{warning}"),
                other => panic!("{new}: {other:?}"),
            }
        }
    }

    #[test]
    fn near_misses_and_malformed_regions_are_refused() {
        for (typo, meant) in [
            ("eu-wset-3", Some("eu-west-3")),
            ("us-esat-1", Some("us-east-1")),
            ("us-east1", Some("us-east-1")),
            ("EU-WEST-3", Some("eu-west-3")),
            ("paris", None),
            ("eu west 3", Some("eu-west-3")),
        ] {
            let RegionCheck::Invalid { message, hint } = check_region(typo) else {
                panic!("{typo} accepted")
            };
            assert!(message.contains(typo), "{message}");
            match meant {
                Some(m) => assert_eq!(hint, format!("did you mean {m}?")),
                None => assert!(hint.contains("--aws-region"), "{hint}"),
            }
        }
    }
}
