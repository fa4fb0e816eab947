#!/bin/sh
echo "coverage is not available in Theta's offline build (remote_coverage_tools is a local stand-in)" >&2
exit 1
