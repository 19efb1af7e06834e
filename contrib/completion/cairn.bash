# bash completion for cairn(1) and cairnd(8).
#
# Commands, subcommands and options are read from the program's own help
# (`cairn help`, `cairn COMMAND --help`) the first time they are needed in
# a shell, so a command added to cairn's table is completed without
# touching this file. Installed by `make install` into bash-completion's
# completions directory; or source it from ~/.bashrc.

# _cairn_help_words PROGRAM ARGS...: the subcommands a help text lists,
# from its "usage:" lines (`cairn app get ...`, `cairn kube [OPTIONS] get`,
# `cairn rollout pause|resume APP`)
# and from a "commands:" section (`  keygen   summary`).
_cairn_help_words()
{
	local prog=$1
	shift
	"$prog" "$@" --help 2>&1 | awk -v cmd="$*" '
		/^commands:/ { section = 1; next }
		section && /^  [a-z][a-z0-9-]* / { print $1; next }
		section && /^$/ { section = 0 }
		{
			line = $0
			sub(/^usage:/, "", line)
			n = split(line, w, " ")
			if (n < 2 || w[1] != "cairn" || w[2] != cmd)
				next
			i = 3
			if (w[i] == "[OPTIONS]")
				i++
			# `pause|resume|abort` names several subcommands
			m = split(w[i], alt, "|")
			for (j = 1; j <= m; j++)
				if (alt[j] ~ /^[a-z][a-z0-9-]*$/)
					print alt[j]
		}' | sort -u
}

# _cairn_commands PROGRAM: the top-level commands of `cairn help`.
_cairn_commands()
{
	"$1" help 2>/dev/null | awk '
		/^commands:/ { section = 1; next }
		section && /^  [a-z][a-z0-9-]* / { print $1; next }
		section && /^$/ { exit }'
}

# _cairn_options PROGRAM ARGS...: every --long and -s option a help text names.
_cairn_options()
{
	local prog=$1
	shift
	"$prog" "$@" --help 2>&1 | grep -oE '(^|[[ ,|])--?[a-zA-Z][a-zA-Z0-9-]*' |
		sed -E 's/^[[ ,|]//' | sort -u
}

# The help texts are read once per shell and per program path.
declare -gA _cairn_cache 2>/dev/null || true

_cairn_cached()
{
	local key="$*"
	if [[ -z ${_cairn_cache[$key]+set} ]]; then
		_cairn_cache[$key]=$("$@")
	fi
	printf '%s\n' "${_cairn_cache[$key]}"
}

# _cairn_value OPTION CUR: complete the value of OPTION; returns 1 when
# OPTION takes no value that this completion knows of.
_cairn_value()
{
	local opt=$1 cur=$2
	case $opt in
	--log-level)
		mapfile -t COMPREPLY < <(compgen -W 'debug info warn error' -- "$cur") ;;
	-o | --output)
		mapfile -t COMPREPLY < <(compgen -W 'text yaml json' -- "$cur") ;;
	--color)
		mapfile -t COMPREPLY < <(compgen -W 'auto always never' -- "$cur") ;;
	--mode)
		mapfile -t COMPREPLY < <(compgen -W 'detect correct' -- "$cur") ;;
	--cascade)
		mapfile -t COMPREPLY < <(compgen -W 'background foreground orphan' -- "$cur") ;;
	--poll)
		mapfile -t COMPREPLY < <(compgen -W 'off 30s 1m 3m 10m' -- "$cur") ;;
	--path | --root | --state-dir | --schemas | --repo-root)
		mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
	--config | --apps | --environments | --kubeconfig | -f | --filename | \
		--token-file | --allowed-signers | --pidfile | --password-file | \
		--ssh-key | --known-hosts | --ca-file | --key | --out)
		mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
	*)
		return 1 ;;
	esac
	return 0
}

_cairn()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog=${COMP_WORDS[0]} i cmd='' sub='' words
	COMPREPLY=()
	prog=$(type -P "$prog" 2>/dev/null || printf %s "$prog")

	# The command is the first word that is not a global option.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--log-level) ((i++)) ;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=${COMP_WORDS[i]}
			elif [[ -z $sub ]]; then
				sub=${COMP_WORDS[i]}
			fi ;;
		esac
	done
	_cairn_value "$prev" "$cur" && return 0

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			words='--log-level --help --version'
		else
			words=$(_cairn_cached _cairn_commands "$prog")
		fi
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return 0
	fi
	if [[ $cur == -* ]]; then
		words=$(_cairn_cached _cairn_options "$prog" "$cmd")
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return 0
	fi
	if [[ -z $sub ]]; then
		words=$(_cairn_cached _cairn_help_words "$prog" "$cmd")
		if [[ -n $words ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
			return 0
		fi
	fi
	# Positional arguments: files and directories (manifests, repositories).
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	return 0
}

_cairnd()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local prog
	COMPREPLY=()
	_cairn_value "$prev" "$cur" && return 0
	prog=$(type -P "${COMP_WORDS[0]}" 2>/dev/null || printf %s "${COMP_WORDS[0]}")
	mapfile -t COMPREPLY < <(compgen -W "$(_cairn_cached _cairn_options "$prog")" -- "$cur")
	return 0
}

complete -o filenames -F _cairn cairn
complete -o filenames -F _cairnd cairnd
