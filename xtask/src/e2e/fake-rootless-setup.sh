#!/bin/sh
# A stand-in for `rootless-setup` as root with `--user NAME --format json` (issue 11's contract),
# for the ansible-fleet scenario: it records each call in $FAKE_DIR/calls (one line of arguments)
# and keeps one state file per user and engine, so install/uninstall report `changed` truthfully.
# A user named `broken` fails as the real tool does when it stops: `ok: false`, exit 1.
set -eu
FAKE_DIR=${FAKE_DIR:-/var/lib/fake-rootless-setup}
mkdir -p "$FAKE_DIR/state"
echo "$*" >>"$FAKE_DIR/calls"

usage() { echo "error: $1" >&2; exit 2; }
[ $# -ge 1 ] || usage "no command"
command=$1; shift
user= engine=docker yes= format=human config=
while [ $# -gt 0 ]; do
    case $1 in
        --user) user=${2:?}; shift 2 ;;
        --engine) engine=${2:?}; shift 2 ;;
        --config) config=${2:?}; shift 2 ;;
        --format) format=${2:?}; shift 2 ;;
        --yes) yes=1; shift ;;
        *) usage "unexpected argument $1" ;;
    esac
done
case $command in install|uninstall) ;; *) usage "unknown command $command" ;; esac
[ -n "$user" ] || usage "--user is required"
[ -n "$yes" ] || usage "--yes is required (no terminal)"
[ "$format" = json ] || usage "--format json is required"
[ -z "$config" ] || [ -r "$config" ] || usage "--config $config: no such file"
uid=$(id -u "$user" 2>/dev/null) || usage "no user $user"

doc() { # ok changed action error
    printf '{"schema_version":1,"command":"%s","engine":"%s","user":"%s","uid":%s,"ok":%s,"changed":%s,"steps":[{"action":"%s","outcome":"done"}],"warnings":[],"error":%s}\n' \
        "$command" "$engine" "$user" "$uid" "$1" "$2" "$3" "$4"
}
if [ "$user" = broken ]; then
    doc false false "check $user" '{"id":"subid.uid","message":"no subordinate ids","help":["rootless-setup fix --user broken"]}'
    exit 1
fi
state="$FAKE_DIR/state/$user.$engine"
if [ "$command" = install ]; then
    if [ -e "$state" ]; then doc true false "already installed" null
    else : >"$state"; doc true true "install $engine for $user" null
    fi
else
    if [ -e "$state" ]; then rm -f "$state"; doc true true "uninstall $engine for $user" null
    else doc true false "nothing installed" null
    fi
fi
