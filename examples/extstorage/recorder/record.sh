# Sourced by every recorder script ($0 names the action). Appends one entry to the log:
#   === <action> [args…]
#   cwd <working directory>
#   <the environment, one VAR=value a line>
#   === end
# The environment is read from /proc/$$/environ: exactly what cairn passed, without
# the PWD that dash adds to whatever it exports. Then it succeeds, unless EXTP_FAIL
# (comma-separated actions) names this action: a message on stderr, exit EXTP_FAIL_CODE.
action=${0##*/}
log=${EXTP_LOG:-./state/calls.log}
mkdir -p "${log%/*}"
entry=$(
  printf '=== %s' "$action"; [ $# -eq 0 ] || printf ' %s' "$@"; printf '\n'
  printf 'cwd %s\n' "$(pwd)"
  tr '\000' '\n' < /proc/$$/environ
  printf '=== end'
)
# One write, so concurrent calls do not interleave their entries.
printf '%s\n' "$entry" >> "$log"
case ",${EXTP_FAIL:-}," in
  *",$action,"*)
    echo "recorder: $action of $VOL_NAME failed as asked (fail=$EXTP_FAIL)" >&2
    exit "${EXTP_FAIL_CODE:-1}" ;;
esac
if [ "$action" = attach ]; then
  # With EXTP_DEV the device path is a real file there (created empty if missing), so copies have data to move.
  if [ -n "${EXTP_DEV:-}" ]; then
    mkdir -p "$EXTP_DEV"
    : >> "$EXTP_DEV/$VOL_NAME"
    printf '%s/%s\n' "$EXTP_DEV" "$VOL_NAME"
  else
    printf '/dev/recorder/%s\n' "$VOL_NAME"
  fi
  printf 'kvm:recorder:%s\n' "$VOL_NAME"
fi
exit 0
