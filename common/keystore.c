/* keystore.c: placeholder until its module lands. */
