/* nosystemd.c: placeholder until its module lands. */
