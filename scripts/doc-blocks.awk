# Print the fenced blocks of Markdown files tagged "```sh KIND" (kind=KIND on
# the awk command line), in order, as one shell script: what the docs' test
# runners execute (scripts/check-docs.py for kind=test, selftests/vm/qemu-docs.sh
# for kind=qemu, selftests/vduse/guest/t-36-docs.sh for kind=vduse). A block
# whose tag also says "fresh" begins with a call to doc_fresh, which the
# runner defines to stop what earlier blocks left running. POSIX awk: it also
# runs in the busybox guest.
/^```/ {
	if (inb) {
		inb = 0
		next
	}
	n = split(substr($0, 4), w, /[ \t]+/)
	if (w[1] == "sh" && w[2] == kind) {
		inb = 1
		printf "# %s:%d\n", FILENAME, FNR
		for (i = 3; i <= n; i++)
			if (w[i] == "fresh")
				print "doc_fresh"
	}
	next
}
inb { print }
