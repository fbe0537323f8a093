/* testpki.c: placeholder until its module lands. */
