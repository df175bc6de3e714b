#!/bin/sh
# Rebuilds docs/patch-report.png: imports the committed real feed fixtures into a scratch data
# directory, scans the demo fleet on 2023-03-01, renders `ooda patch report --html` for this demo fleet as of 2023-04-10, and takes
# a headless Chromium screenshot. Run from the repository root after `cargo build`.
set -eu
ooda=${OODA:-target/debug/ooda}
fixtures=crates/ooda-patch/tests/fixtures
demo=docs/patch-demo
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT
for feed in "debian-fixed debian/advisories-fixed.tsv" "debian-tracker debian/tracker-json-mock-osvdev.json" \
    "debian-tracker debian/tracker-json-excerpt-vuls.json" "nvd nvd/nvd-api2-records.jsonl" \
    "kev kev/known_exploited_vulnerabilities.json" "epss epss/epss_scores-2023-03-07.csv.gz" \
    "redhat-csaf redhat"; do
    set -- $feed
    "$ooda" --data-dir "$data" patch feeds import "$1" "$fixtures/$2" >/dev/null
done
# A first scan on 1 March opens the findings in the ledger, so the report shows what is overdue.
"$ooda" --data-dir "$data" patch scan --cmdb "$demo/cmdb.csv" --packages "$demo/packages" \
    --at 2023-03-01T00:00:00Z >/dev/null 2>&1
"$ooda" --data-dir "$data" patch report --html --cmdb "$demo/cmdb.csv" --packages "$demo/packages" \
    --windows "$demo/windows.toml" --exceptions "$demo/exceptions.toml" \
    --at 2023-04-10T00:00:00Z --out "$data/report.html"

chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1500,2400 \
    --screenshot=docs/patch-report.png "file://$data/report.html"
