#!/usr/bin/env python3
"""docs.py BUILD_DIR - README.md, the man page (docs/keepwarm.1) and
docs/formats.md agree with the code's own tables on every setting, trace
event, reason, option and accepted value.

The code's side is read from where the code keeps it: the settings from
shim/logic/config.c's keys[], the events and reasons from
shim/logic/catalog.h, booleans, size suffixes and duration units from the
parsers in config.c, and the options from the tools' own --help. Prints a
PASS or FAIL line per check and "N passed, M failed" last; exit status 1 on
any failure.
"""
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "build")
passed = failed = 0


def read(path):
    with open(os.path.join(ROOT, path), encoding="utf-8") as f:
        return f.read()


def check(name, missing, where):
    """PASS when nothing is missing; else FAIL naming what is missing where."""
    global passed, failed
    if missing:
        failed += 1
        print("FAIL %s: %s lacks %s" % (name, where, ", ".join(sorted(missing))))
    else:
        passed += 1
        print("PASS %s" % name)


def man_section(text, title):
    """The roff source of one .SH section, roff escapes for '-' undone."""
    m = re.search(r"^\.SH %s\n(.*?)(?=^\.SH )" % re.escape(title), text, re.S | re.M)
    return (m.group(1) if m else "").replace("\\-", "-")


README = read("README.md")
MAN = read("docs/keepwarm.1")
MAN_PLAIN = MAN.replace("\\-", "-")
FORMATS = read("docs/formats.md")
CONFIG_C = read("shim/logic/config.c")
CATALOG = read("shim/logic/catalog.h")

# ---------------------------------------------------------------- settings
settings = re.findall(r'^\s*\{ "(KEEPWARM[A-Z_]*)", K_[A-Z]+,', CONFIG_C, re.M)
not_settings = set(re.findall(r'"(KEEPWARM_[A-Z_]+)"',
                              re.search(r"launcher_names\[\] = \{([^}]*)\}", CONFIG_C).group(1)))
readme_table = set(re.findall(r"^\| `(KEEPWARM[A-Z_]*)` \|", README, re.M))
check("every setting (and KEEPWARM_CONFIG) has a row in README's configuration table",
      (set(settings) | {"KEEPWARM_CONFIG"}) - readme_table, "README.md")
man_env = set(re.findall(r"^\.B (KEEPWARM[A-Z_]*)$", man_section(MAN, "ENVIRONMENT"), re.M))
check("every setting (and KEEPWARM_CONFIG) has an entry in the man page's ENVIRONMENT",
      (set(settings) | {"KEEPWARM_CONFIG"}) - man_env, "docs/keepwarm.1")
conf = read("examples/keepwarm.conf")
check("examples/keepwarm.conf names every setting",
      {s for s in settings if not re.search(r"^# %s =" % s, conf, re.M)}, "examples/keepwarm.conf")
# A name the docs use must exist; the one typo README shows on purpose aside.
typo_examples = {"KEEPWARM_MAX_IDEL"}
known = set(settings) | not_settings | typo_examples
for path, text in (("README.md", README), ("docs/keepwarm.1", MAN_PLAIN),
                   ("docs/formats.md", FORMATS)):
    used = set(re.findall(r"\bKEEPWARM(?:_[A-Z]+)+\b", text))
    check("%s names no KEEPWARM_* variable that does not exist" % path, used - known,
          "the code's tables (settings and launcher names)")

# ------------------------------------------------------------------ events
events = re.findall(r'^\s*X\([A-Z_]+, "([a-z-]+)", [A-Z_]+\)', CATALOG.split("Reasons:")[0], re.M)
readme_events = set(re.findall(r"^\| `([a-z-]+)` \| ", README, re.M))
check("every trace event has a row in README's event table", set(events) - readme_events,
      "README.md")
man_trace = man_section(MAN, "TRACE FORMAT")
check("every trace event is described in the man page's TRACE FORMAT",
      {e for e in events if not re.search(r"^\.B %s$" % re.escape(e), man_trace, re.M)},
      "docs/keepwarm.1")
row = re.search(r"^\| `event` \| always \| (.*) \|$", FORMATS, re.M)
formats_events = set(re.findall(r"`([a-z-]+)`", row.group(1))) if row else set()
check("every trace event is in docs/formats.md's event field", set(events) - formats_events,
      "docs/formats.md")
check("docs/formats.md's event field has no event the code lacks", formats_events - set(events),
      "shim/logic/catalog.h")

# ----------------------------------------------------------------- reasons
reasons = re.findall(r'^\s*X\([A-Z0-9_]+, "([a-z0-9-]+)", [A-Z_]+, [A-Z_]+\)', CATALOG, re.M)
formats_reasons = set(re.findall(r"^\| `([a-z0-9-]+)` \| [a-z]+ \| ", FORMATS, re.M))
check("every reason is in docs/formats.md's reason table", set(reasons) - formats_reasons,
      "docs/formats.md")
check("README and the man page point to the reason table",
      {w for w, t in (("README.md", README), ("docs/keepwarm.1", MAN_PLAIN))
       if "docs/formats.md" not in t}, "a pointer in")

# ----------------------------------------------------------------- options
def help_options(*cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", out))


kw_opts = help_options(os.path.join(BUILD, "keepwarm"), "--help")
tools = README[README.index("## Tools"):README.index("## Worked examples")]
check("every option keepwarm --help lists is in README's Tools section",
      {o for o in kw_opts if "`%s" % o not in tools}, "README.md")
man_opts = man_section(MAN, "OPTIONS")
check("every option keepwarm --help lists is in the man page's OPTIONS",
      {o for o in kw_opts if not re.search(r"^\.B[IR]? [^\n]*%s\b" % re.escape(o), man_opts, re.M)},
      "docs/keepwarm.1")
man_opt_names = set(re.findall(r"^\.B[IR]? (--[a-z][a-z-]*)", man_opts, re.M))
check("the man page's OPTIONS has no option keepwarm lacks", man_opt_names - kw_opts,
      "keepwarm --help")
ks = os.path.join(BUILD, "keepwarm-stat")
ks_opts = help_options(ks, "summary", "--help") | help_options(ks, "compare", "--help")
man_stat = man_section(MAN, "KEEPWARM-STAT") + man_section(MAN, "SYNOPSIS")
check("every keepwarm-stat option is in the man page (synopsis or KEEPWARM-STAT)",
      {o for o in ks_opts if o not in man_stat}, "docs/keepwarm.1")
check("every keepwarm-stat option is in README's Tools section",
      {o for o in ks_opts if o not in tools}, "README.md")

# ---------------------------------------------------------- accepted values
bool_words = set(re.findall(r'"([a-z0-9]+)"', re.search(
    r"yes\[\] = \{([^}]*)\}", CONFIG_C).group(1) + re.search(r"no\[\] = \{([^}]*)\}",
                                                             CONFIG_C).group(1)))
config_readme = README[README.index("## Configuration"):README.index("## Trace format")]
check("README's Configuration lists every boolean spelling the parser takes",
      {b for b in bool_words if "`%s`" % b not in config_readme}, "README.md")
man_keepwarm = re.search(r"^\.B KEEPWARM\n(.*?)^\.TP", man_section(MAN, "ENVIRONMENT"),
                         re.S | re.M)
man_bools = man_keepwarm.group(1) if man_keepwarm else ""
check("the man page's KEEPWARM entry lists every boolean spelling",
      {b for b in bool_words if not re.search(r"(^|[ /])%s( |,|$|/|\.)" % b, man_bools, re.M)},
      "docs/keepwarm.1")
sizes = re.findall(r'\{ "([a-z]*)", (?:10|20|30|0) \}', re.search(
    r"kw_parse_size.*?units\[\] = \{(.*?)\};", CONFIG_C, re.S).group(1))
size_words = {{"b": "B", "k": "K", "kb": "KB", "kib": "KiB", "m": "M", "mb": "MB", "mib": "MiB",
               "g": "G", "gb": "GB", "gib": "GiB"}[s] for s in sizes if s}
for path, text in (("README.md", README), ("docs/keepwarm.1", MAN_PLAIN)):
    check("%s lists every size suffix the parser takes" % path,
          {w for w in size_words if not re.search(r"(?<![A-Za-z])%s(?![A-Za-z])" % w, text)}, path)
durations = re.findall(r'\{ "([a-z]+)", [0-9]+(?:ULL)? \}', re.search(
    r"unit_ns.*?units\[\] = \{(.*?)\};", CONFIG_C, re.S).group(1))
check("README lists every duration unit",
      {u for u in durations if "`%s`" % u not in config_readme}, "README.md")
check("the man page lists every duration unit",
      {u for u in durations if not re.search(r"\b%s\b" % u, man_section(MAN, "OPTIONS"))},
      "docs/keepwarm.1")
for path, text in (("README.md", README), ("docs/keepwarm.1", MAN_PLAIN),
                   ("docs/formats.md", FORMATS)):
    check("%s says what %%p and %%%% mean in KEEPWARM_STATS" % path,
          {w for w in ("%p", "%%") if w not in text}, path)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
