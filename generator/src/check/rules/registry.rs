//! The one list of rules: each line names a rule's file, `family::rule_name`, whose `RULE` is
//! the rule and whose `check` reports it. Keep the list in id order; a rule's file that is
//! not listed here is dead code, which the build refuses.

use super::Facts;
use crate::check::{Finding, Rule};

/// One rule and the function that reports it.
pub(crate) struct Entry {
    /// The folder under `rules/` holding the rule's file.
    #[cfg(test)]
    pub family: &'static str,
    /// The name of the rule's file, without `.rs`: the rule's name in snake case.
    #[cfg(test)]
    pub file: &'static str,
    pub rule: &'static Rule,
    /// Adds the rule's findings in the project the facts are about.
    pub check: fn(&Facts<'_>, &mut Vec<Finding>),
}

macro_rules! registry {
    ($($family:ident :: $file:ident),+ $(,)?) => {
        /// Every rule, in id order.
        pub(crate) static RULES: &[Entry] = &[$(
            Entry {
                #[cfg(test)]
                family: stringify!($family),
                #[cfg(test)]
                file: stringify!($file),
                rule: &super::$family::$file::RULE,
                check: super::$family::$file::check,
            }
        ),+];
    };
}

registry! {
    docker::docker_root_user,
    docker::docker_root_owned_write,
    docker::docker_port_mismatch,
    docker::docker_loopback_bind,
    docker::docker_copy_before_install,
    docker::docker_python_too_old,
    docker::docker_python_eol,
    docker::docker_copy_ignored,
    docker::docker_secret_in_image,
    docker::docker_healthcheck_tool,
    docker::docker_forwarded_allow_ips,
    docker::docker_exec_form_invalid,
    cors::cors_wildcard_in_origin,
    cors::cors_credentials_any_origin,
    cors::cors_regex_any_vercel_app,
    cors::cors_origin_with_path,
    cors::cors_methods_miss_routes,
    cors::cors_inside_error_middleware,
    secrets::secret_in_code,
    secrets::secret_in_env_file,
    secrets::url_mask_leaks_password,
    postgres::asyncpg_url_sslmode,
    postgres::asyncpg_neon_pooler_statements,
    postgres::postgres_without_pre_ping,
    stale::huggingface_hub_removed_api,
    stale::qdrant_search_removed,
    app::no_health_route,
    app::no_root_route,
    app::sqlite_in_root_owned_folder,
    app::db_connection_at_import,
    secrets::secret_in_public_variable,
    env::env_example_incomplete,
    cors::cors_origins_hardcoded,
    secrets::secret_in_docs,
    secrets::secret_in_env_example,
    schema::create_all_on_postgres,
    schema::model_without_revision,
    readme::readme_header_missing,
    readme::readme_header_invalid,
    readme::readme_sdk,
    readme::readme_app_port,
    readme::readme_colors,
    readme::readme_short_description,
    readme::readme_huggingface_cli,
    readme::readme_persistent_data,
    readme::readme_no_endpoints,
    readme::readme_port_contradicts_app_port,
    requirements::requirement_unpinned,
    requirements::requirement_conflict,
    requirements::requirement_duplicate,
    requirements::requirement_known_bad,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::finding::SECTIONS;

    #[test]
    fn the_registry_is_in_id_order_and_each_file_is_named_after_its_rule() {
        for pair in RULES.windows(2) {
            assert!(
                pair[0].rule.id < pair[1].rule.id,
                "{} before {}",
                pair[0].rule.id,
                pair[1].rule.id
            );
        }
        for entry in RULES {
            assert_eq!(
                entry.file,
                entry.rule.name.replace('-', "_"),
                "{}",
                entry.rule.id
            );
        }
    }

    #[test]
    fn every_explanation_has_the_sections_in_order() {
        for entry in RULES {
            let rule = entry.rule;
            let sections = rule.sections();
            let headings: Vec<&str> = sections.iter().map(|(h, _)| h.as_str()).collect();
            assert_eq!(
                headings, SECTIONS,
                "{}: the headings of its doc comment",
                rule.id
            );
            for (heading, body) in &sections {
                assert!(
                    !body.trim().is_empty(),
                    "{}: '## {heading}' is empty",
                    rule.id
                );
            }
        }
    }
}
