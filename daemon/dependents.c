/* dependents.c: placeholder until its module lands. */
