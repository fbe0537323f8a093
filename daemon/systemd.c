/* systemd.c: placeholder until its module lands. */
