//! Credentials in the files: provider API keys and database URLs with a password written into
//! Python string literals, comments, documentation, a `.env` file that git tracks or does not
//! ignore, or a frontend's public variables, and URLs "masked" by cutting at `@`, which keeps
//! the password. What a secret is, and what a placeholder is, is decided in
//! [`crate::check::secret`].

pub(super) mod secret_in_code;
pub(super) mod secret_in_docs;
pub(super) mod secret_in_env_example;
pub(super) mod secret_in_env_file;
pub(super) mod secret_in_public_variable;
pub(super) mod url_mask_leaks_password;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::rules::Facts;
    use crate::check::Project;

    fn code_findings(code: &str) -> Vec<(&'static str, usize)> {
        let mut found = super::super::found_by("secrets", &[("app/config.py", code)]);
        found.sort_unstable();
        found
    }

    #[test]
    fn signing_keys_and_named_secrets_written_as_literals_are_found() {
        let code = "import os\nSECRET_KEY = 'super-secret-key'\nJWT_SECRET = os.getenv('JWT_SECRET', 'dev-secret')\nDB_PASSWORD = 'Hx7wQp2zLm9v'\nAPI_KEY = os.getenv('API_KEY', 'your-api-key')\nOPENAI_API_KEY = os.environ.get('OPENAI_API_KEY', '')\nSESSION_SECRET = os.environ['SESSION_SECRET']\nMAX_TOKENS = '1024'\n";
        assert_eq!(
            code_findings(code),
            vec![("SG207", 2), ("SG207", 3), ("SG207", 4)]
        );
        assert_eq!(
            super::super::found_by("secrets", &[("tests/test_auth.py", code)]),
            vec![]
        );
        let settings = "from pydantic_settings import BaseSettings\nclass Settings(BaseSettings):\n    jwt_secret: str = 'change-me'\n    session_secret: str = Field(default='dev-session-key')\n    openai_api_key: str = ''\n    secret_key_name: str = 'session'\nclass Config:\n    SECRET_KEY = 'flask-dev'\n";
        assert_eq!(
            code_findings(settings),
            vec![("SG207", 3), ("SG207", 4), ("SG207", 8)]
        );
        let sentinel = "def f(auth_token=None):\n    if not auth_token:\n        auth_token = 'open_access'\nPASSWORD_FIELD = 'user_password'\n";
        assert_eq!(code_findings(sentinel), vec![]);
    }

    #[test]
    fn keys_in_comments_and_documentation_are_found() {
        let key = format!("sk-or-v1-{}", "Zq8vN3kLw2RtY7uXb5Hc9JmD4sFgA1eP");
        let code = format!("import os\n# OPENROUTER_API_KEY = '{key}'\nKEY = os.environ['K']  # was {key}\nURL = '#' + 'x'\n");
        assert_eq!(
            super::super::found_by("secrets", &[("app/main.py", &code)]),
            vec![("SG222", 2), ("SG222", 3)]
        );
        let notes =
            format!("# Deploy\n\nSet `OPENROUTER_API_KEY` to `sk-or-v1-...`.\n\nOurs: {key}\n");
        let files = [
            ("DEPLOY.md", notes.as_str()),
            (
                "docs/setup.txt",
                "postgresql://app:Hx7wQp2zLm9vRt@db.prod.io/app\n",
            ),
            ("requirements.txt", "fastapi==0.115.0\n"),
            (
                "README.md",
                "DATABASE_URL=postgresql://user:password@host/db\n",
            ),
        ];
        let mut found = super::super::found_by("secrets", &files);
        found.sort_unstable();
        assert_eq!(found, vec![("SG222", 1), ("SG222", 5)]);
    }

    #[test]
    fn env_files_are_judged_unless_ignored() {
        let files = [
            (".env", "OPENAI_API_KEY=sk-proj-aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY\nDEBUG=true\nSECRET_KEY=\"9f8e7d6c5b4a3210fedcba\"\nAPI_KEY=your-key-here-please-123\n"),
            (".env.example", "OPENAI_API_KEY=sk-proj-aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY\n"),
        ];
        assert_eq!(
            found(&Project::from_files(&files)),
            vec![(".env".to_owned(), 1), (".env".to_owned(), 3)]
        );
        let ignored = [files[0], (".gitignore", "*.pyc\n/.env\n")];
        assert_eq!(found(&Project::from_files(&ignored)), vec![]);
    }

    /// The findings of SG208, as (file, line).
    fn found(project: &Project) -> Vec<(String, usize)> {
        let mut findings = Vec::new();
        secret_in_env_file::check(&Facts::of(project), &mut findings);
        findings.into_iter().map(|f| (f.file, f.line)).collect()
    }

    #[test]
    fn a_tracked_env_file_is_published_whatever_gitignore_says() {
        let env = (
            ".env",
            "OPENAI_API_KEY=sk-proj-aB3dE5fG7hJ9kL1mN2pQ4rS6tU8vW0xY\n",
        );
        let ignore = (".gitignore", ".env\n");
        let committed = Project::from_files(&[env, ignore]).tracking(&[".env", ".gitignore"]);
        assert_eq!(found(&committed), vec![(".env".to_owned(), 1)]);
        let untracked = Project::from_files(&[env, ignore]).tracking(&[".gitignore"]);
        assert_eq!(found(&untracked), vec![]);
        let unignored = Project::from_files(&[env]).tracking(&[]);
        assert_eq!(found(&unignored), vec![(".env".to_owned(), 1)]);
    }
}
