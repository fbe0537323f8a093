/* chain.c: placeholder until its module lands. */
