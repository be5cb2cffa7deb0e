# Sourced by every filevol script; the interface runs them with the provider folder as cwd.
# A volume is the sparse file $DIR/$VOL_NAME ("device path" = that file).
set -eu
DIR=${EXTP_DIR:-/var/lib/cairn/extstorage/filevol}
case $DIR in
  /*) ;;
  *) echo "filevol: dir must be an absolute path, got '$DIR'" >&2; exit 1 ;;
esac
# VOL_NAME becomes a file name: refuse anything that could leave $DIR.
case $VOL_NAME in
  '' | */* | .*) echo "filevol: unusable VOL_NAME '$VOL_NAME'" >&2; exit 1 ;;
esac
FILE=$DIR/$VOL_NAME
must_exist() {
  [ -f "$FILE" ] || { echo "filevol: volume $VOL_NAME does not exist ($FILE)" >&2; exit 1; }
}
