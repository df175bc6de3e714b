//! `ooda completions SHELL` and `ooda man`: the command line describing itself, generated from
//! the same clap definition that parses it, so the package's completions and man page can never
//! drift from the binary they ship with.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use clap_complete::Shell;

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// bash, zsh, fish, elvish or powershell.
    pub shell: Shell,
}

pub fn completions(args: CompletionsArgs, command: &mut clap::Command) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, command, "ooda", &mut out);
    out.flush().context("writing the completion script")?;
    Ok(ExitCode::SUCCESS)
}

/// One page, `ooda(1)`, with every subcommand's synopsis and options under SUBCOMMANDS.
pub fn man(command: &clap::Command) -> anyhow::Result<ExitCode> {
    let mut page = Vec::new();
    render(command, &mut page)?;
    let mut out = std::io::stdout().lock();
    out.write_all(&page).context("writing the man page")?;
    out.flush().context("writing the man page")?;
    Ok(ExitCode::SUCCESS)
}

fn render(command: &clap::Command, out: &mut Vec<u8>) -> anyhow::Result<()> {
    let man = clap_mangen::Man::new(command.clone());
    man.render(out).context("rendering the man page")?;
    // clap_mangen renders one command; append each subcommand's own options and subcommands so
    // `man ooda` documents `ooda alerts list --json` and not only the top-level flags.
    let mut sections = Vec::new();
    collect(command, "ooda", &mut sections);
    if !sections.is_empty() {
        out.extend_from_slice(b".SH \"COMMANDS IN DETAIL\"\n");
        for (path, sub) in sections {
            writeln!(out, ".SS \"{path}\"")?;
            let mut body = Vec::new();
            let sub_man = clap_mangen::Man::new(sub.clone().bin_name(path.clone()));
            sub_man
                .render_synopsis_section(&mut body)
                .and_then(|()| sub_man.render_options_section(&mut body))
                .context("rendering a subcommand")?;
            // Nested pages' .SH headings become plain bold lines inside this subsection.
            let body = String::from_utf8_lossy(&body).replace(".SH ", ".B ");
            out.extend_from_slice(body.as_bytes());
        }
    }
    Ok(())
}

fn collect(command: &clap::Command, prefix: &str, into: &mut Vec<(String, clap::Command)>) {
    for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
        if sub.get_name() == "help" {
            continue;
        }
        let path = format!("{prefix} {}", sub.get_name());
        into.push((path.clone(), sub.clone()));
        collect(sub, &path, into);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn command() -> clap::Command {
        clap::Command::new("ooda")
            .version("1.0")
            .about("test")
            .subcommand(
                clap::Command::new("alerts").subcommand(
                    clap::Command::new("list")
                        .about("Alerts, newest first")
                        .arg(
                            clap::Arg::new("json")
                                .long("json")
                                .action(clap::ArgAction::SetTrue),
                        ),
                ),
            )
    }

    #[test]
    fn the_man_page_documents_nested_subcommands_and_their_flags() {
        let mut page = Vec::new();
        render(&command(), &mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(
            page.starts_with(".ie") || page.contains(".TH ooda"),
            "{page}"
        );
        assert!(page.contains(".SS \"ooda alerts list\""), "{page}");
        assert!(page.contains("json"), "{page}");
    }
}
