/* control.c: placeholder until its module lands. */
