/* jks.c: placeholder until its module lands. */
