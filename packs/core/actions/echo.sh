#!/bin/sh
# Parameters arrive as ATTUNE_ACTION_<NAME> environment variables.
printf '%s\n' "${ATTUNE_ACTION_MESSAGE}"
