/* render.c: placeholder until its module lands. */
