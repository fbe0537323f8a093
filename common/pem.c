/* pem.c: placeholder until its module lands. */
