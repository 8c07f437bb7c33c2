# bash completion for keepwarm and keepwarm-stat (installed as
# share/bash-completion/completions/keepwarm and .../keepwarm-stat).
# shellcheck disable=SC2207 # compgen words one per line: the usual completion idiom

_keepwarm()
{
	local cur prev i
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	# After "--" or the program, complete the program's own words.
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		--) _keepwarm_command $((i + 1)); return ;;
		--library|--trace|--stats|--max-idle|--max-idle-per-host|--idle-timeout|\
		--max-lifetime|--max-requests|--tcp-keepalive|--stats-interval|--sample|--drain|--reuse|\
		--tls-handshake-timeout|--broker|--broker-linger|--broker-stats|--warm|\
		--connect-timeout|--destinations)
			((i++)) ;;
		-*) ;;
		*) _keepwarm_command "$i"; return ;;
		esac
	done
	case $prev in
	--library) COMPREPLY=($(compgen -f -X '!*.so' -- "$cur")); compopt -o plusdirs 2>/dev/null; return ;;
	--trace) COMPREPLY=($(compgen -W stderr -- "$cur") $(compgen -f -- "$cur")); return ;;
	--stats|--broker-stats) COMPREPLY=($(compgen -f -- "$cur")); return ;;
	--reuse) COMPREPLY=($(compgen -W 'safe always' -- "$cur")); return ;;
	--broker) COMPREPLY=($(compgen -W 'auto off' -- "$cur") $(compgen -f -- "$cur")); return ;;
	--max-idle|--max-idle-per-host|--idle-timeout|--max-lifetime|--max-requests|\
	--tcp-keepalive|--stats-interval|--sample|--drain|--tls-handshake-timeout|--broker-linger|\
	--connect-timeout|--destinations|--warm) return ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W '--off --max-idle --max-idle-per-host --idle-timeout
			--max-lifetime --max-requests --tcp-keepalive --trace --stats --stats-interval
			--sample --no-upgrade --drain --reuse --tls-handshake-timeout --no-tls-reuse --broker
			--no-broker --broker-linger --broker-stats --warm --connect-timeout --destinations --library
			--help --version
			--' -- "$cur"))
	else
		COMPREPLY=($(compgen -W 'config status' -- "$cur") $(compgen -c -- "$cur"))
	fi
}

# Complete the command line that starts at word $1 as its own.
_keepwarm_command()
{
	local start=$1
	if declare -F _command_offset >/dev/null; then
		_command_offset "$start"
	elif ((COMP_CWORD == start)); then
		COMPREPLY=($(compgen -c -- "${COMP_WORDS[COMP_CWORD]}"))
	else
		COMPREPLY=($(compgen -f -- "${COMP_WORDS[COMP_CWORD]}"))
	fi
}

_keepwarm_stat()
{
	local cur prev cmd
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=${COMP_WORDS[COMP_CWORD-1]}
	cmd=${COMP_WORDS[1]}
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W 'summary compare help --help --version' -- "$cur"))
		return
	fi
	case $cmd in
	summary)
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W '--help' -- "$cur")) ||
			COMPREPLY=($(compgen -f -- "$cur")) ;;
	compare)
		case $prev in
		--plot) COMPREPLY=($(compgen -f -X '!*.svg' -- "$cur")); compopt -o plusdirs 2>/dev/null; return ;;
		esac
		[[ $cur == -* ]] && COMPREPLY=($(compgen -W '--a --b --by-arm --by-dest --plot --help' -- "$cur")) ||
			COMPREPLY=($(compgen -f -- "$cur")) ;;
	help) COMPREPLY=($(compgen -W 'summary compare' -- "$cur")) ;;
	esac
}

complete -F _keepwarm keepwarm
complete -F _keepwarm_stat keepwarm-stat
