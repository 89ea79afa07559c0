#!/usr/bin/env bash
# CI step: the run report (search-evolve report -> RUN/report.html) rendered
# in a real browser. Installs Debian's Chromium when it is missing and this
# runs as root with apt, then runs report.TestReportInBrowser: headless
# Chromium screenshots the page (it must not be blank) and the page must log
# nothing to the console. Skips with a message when Chromium cannot be
# installed. Run from the repository root; about 1-3 minutes with the
# install, 30 s without.
set -euo pipefail
cd "$(dirname "$0")/../.."

have_chromium() {
	command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 ||
		command -v google-chrome >/dev/null 2>&1 || command -v google-chrome-stable >/dev/null 2>&1
}

if ! have_chromium; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "browser.sh: installing chromium (apt-get)"
		if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; then
			echo "browser.sh: SKIP: apt-get could not install chromium"
			exit 0
		fi
	else
		echo "browser.sh: SKIP: chromium is not installed and cannot be (needs root and apt-get)"
		exit 0
	fi
fi
if ! have_chromium; then
	echo "browser.sh: SKIP: chromium still not found after installing"
	exit 0
fi
go test -count=1 -run '^TestReportInBrowser$' -v ./report/ | grep -v '^=== RUN'
