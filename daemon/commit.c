/* commit.c: placeholder until its module lands. */
