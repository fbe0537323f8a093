#ifndef CERTD_TESTPKI_H
#define CERTD_TESTPKI_H
#endif
