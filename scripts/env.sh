# Source this file to use the repository's Pulumi setup from your shell:
#   source scripts/env.sh && pulumi preview -s dev
# It puts ./tools/bin (the CLI built by scripts/install-pulumi) and the venv first on PATH and selects the
# file backend in ./state with its passphrase file, without update checks or plugin downloads.
_ss_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PATH="$_ss_root/tools/bin:$_ss_root/venv/bin:$PATH"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$_ss_root/state}"
export PULUMI_CONFIG_PASSPHRASE_FILE="${PULUMI_CONFIG_PASSPHRASE_FILE:-$_ss_root/state/passphrase}"
export PULUMI_HOME="${PULUMI_HOME:-$_ss_root/state/pulumi-home}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
# the CLI's garbage collector runs less often, within a soft memory limit (less CLI CPU per checkpoint save)
export GOGC="${GOGC:-400}"
export GOMEMLIMIT="${GOMEMLIMIT:-1GiB}"
unset _ss_root
