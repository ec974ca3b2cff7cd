# bash completion for dsmctl(8): objects, their commands, `node set` keys,
# options, key files, and the keys of the regions this node knows (from
# `dsmctl -j region`, which needs CAP_NET_ADMIN: others get none).
# Installed as /usr/share/bash-completion/completions/dsmctl; needs only
# bash itself (compgen), not the bash-completion package.

_dsmctl_region_keys() {
	local key
	dsmctl -j region 2> /dev/null | command grep -o '"key":[0-9]*' |
		while IFS=: read -r _ key; do printf '%#x\n' "$key"; done
}

_dsmctl() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
	local words=() used=() i w

	for ((i = 1; i < COMP_CWORD; i++)); do
		[[ ${COMP_WORDS[i]} == -* ]] || words+=("${COMP_WORDS[i]}")
	done
	COMPREPLY=()
	if [[ $cur == -* ]]; then
		if [[ ${words[0]-} == hot ]]; then
			COMPREPLY=($(compgen -W "-n -i" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "-j -p -V -h" -- "$cur"))
		fi
		return
	fi
	if ((${#words[@]} == 0)); then
		COMPREPLY=($(compgen -W "show node join leave peers stats monitor region hot help" -- "$cur"))
		return
	fi
	case ${words[0]} in
	node)
		if ((${#words[@]} == 1)); then
			COMPREPLY=($(compgen -W "set limit help" -- "$cur"))
		elif [[ ${words[1]} == limit ]]; then
			((${#words[@]} == 2)) && COMPREPLY=($(compgen -W mem -- "$cur"))
			((${#words[@]} == 3)) && COMPREPLY=($(compgen -W none -- "$cur"))
		elif [[ ${words[1]} == set ]]; then
			case $prev in
			key)	# a file (names with spaces kept whole), or none
				compopt -o filenames 2> /dev/null
				mapfile -t COMPREPLY < <(compgen -f -- "$cur"; compgen -W none -- "$cur")
				;;
			id | addr | port | cluster | dead-timeout) ;;
			*)
				# the keys not given yet (values sit at odd places)
				for ((i = 2; i < ${#words[@]}; i += 2)); do
					used+=("${words[i]}")
				done
				for w in id addr port cluster dead-timeout key; do
					[[ " ${used[*]} " == *" $w "* ]] ||
						COMPREPLY+=($(compgen -W "$w" -- "$cur"))
				done
				;;
			esac
		fi
		;;
	stats)
		((${#words[@]} == 1)) && COMPREPLY=($(compgen -W reset -- "$cur"))
		;;
	region)
		if ((${#words[@]} == 1)); then
			COMPREPLY=($(compgen -W "list show save load" -- "$cur"))
		elif [[ ${words[1]} == @(show|save) ]] && ((${#words[@]} == 2)); then
			COMPREPLY=($(compgen -W "$(_dsmctl_region_keys)" -- "$cur"))
		elif [[ ${words[1]} == save && ${#words[@]} == 3 ]] ||
		     [[ ${words[1]} == load && ${#words[@]} == 2 ]]; then
			COMPREPLY=($(compgen -f -- "$cur"))	# the file
		fi
		;;
	hot)	# a region key, unless a number for -n or -i comes next
		[[ $prev == -[ni] ]] ||
			COMPREPLY=($(compgen -W "$(_dsmctl_region_keys)" -- "$cur"))
		;;
	esac
}

complete -F _dsmctl dsmctl
