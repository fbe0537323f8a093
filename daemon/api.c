/* api.c: placeholder until its module lands. */
