/* pkcs12.c: placeholder until its module lands. */
