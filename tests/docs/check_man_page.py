#!/usr/bin/env python3
"""The man page renders without warnings and matches the command's help.

usage: check_man_page.py docs/globalloc.1 [path/to/globalloc]
Renders with `groff -man -Tutf8 -ww -z` (or `man -l` when groff is missing);
skips (exit 77) when neither is installed. With the command, checks that
every command and every --flag of `globalloc help CMD` is in the man page.
"""
import os
import re
import shutil
import subprocess
import sys


def main():
    page = sys.argv[1]
    text = open(page, encoding="utf-8").read()
    problems = 0
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "ENVIRONMENT",
                    "EXIT STATUS", "EXAMPLES", "SEE ALSO"]:
        if not re.search(r'^\.SH "?' + section + r'"?\s*$', text, re.M):
            print(f"{page}: no .SH {section}")
            problems += 1

    if len(sys.argv) > 2:
        command = sys.argv[2]
        # The page writes a flag as \-\-name (roff's minus sign).
        plain = text.replace("\\-", "-").replace("\\fB", "").replace("\\fI", "").replace("\\fR", "").replace("\\fP", "")
        for sub in ["bench", "run", "compare", "list", "help"]:
            help_text = subprocess.run([command, "help", sub], capture_output=True, text=True).stdout
            if not help_text:
                print(f"`globalloc help {sub}` printed nothing")
                problems += 1
            for flag in sorted(set(re.findall(r"(--[a-z][a-z-]*)", help_text))):
                if flag not in plain:
                    print(f"{page}: `globalloc {sub}` has {flag}, the man page does not")
                    problems += 1
            if not re.search(r"^\.TP\n\\fB" + sub + r"\\fR", text, re.M):
                print(f"{page}: no COMMANDS entry for {sub}")
                problems += 1
        main_help = subprocess.run([command, "--help"], capture_output=True, text=True).stdout
        for variable in re.findall(r"\b(GLOBALLOC_[A-Z]+)\b", main_help):
            if variable not in plain:
                print(f"{page}: --help mentions {variable}, the man page does not")
                problems += 1

    groff = shutil.which("groff")
    if groff:
        render = subprocess.run([groff, "-man", "-Tutf8", "-ww", "-z", page], capture_output=True, text=True)
        renderer = "groff -man -Tutf8 -ww"
    elif shutil.which("man"):
        env = dict(os.environ, MANWIDTH="80", MAN_KEEP_STDERR="1")
        render = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, text=True, env=env)
        renderer = "man --warnings -l"
    else:
        print("neither groff nor man is installed: rendering skipped")
        return 77 if problems == 0 else 1
    if render.returncode != 0 or render.stderr.strip():
        print(f"{renderer} {page}: exit {render.returncode}\n{render.stderr}")
        problems += 1
    print(f"{page}: rendered with {renderer}; {problems} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
