#!/bin/sh
# Runs in place of the unit tests when configure did not find Check.
echo "the Check unit tests were not built: install Check (Debian: check) and re-run configure" >&2
exit 1
