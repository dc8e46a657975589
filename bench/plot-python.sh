# shellcheck shell=bash
# Sourced by the bench scripts: sets $py to a python3 that can import
# matplotlib, installing python3-matplotlib (no recommends) when neither
# python3 on PATH nor /usr/bin/python3 (where apt puts it) has it.
sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

py=
for p in python3 /usr/bin/python3; do
	if "$p" -c 'import matplotlib' 2>/dev/null; then
		py=$p
		break
	fi
done
if [ -z "$py" ]; then
	sudo_ apt-get update -qq
	sudo_ env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends python3-matplotlib
	py=/usr/bin/python3
fi
