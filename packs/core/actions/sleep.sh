#!/bin/sh
# Parameters arrive as ATTUNE_ACTION_<NAME> environment variables.
sleep "${ATTUNE_ACTION_SECONDS:-1}"
