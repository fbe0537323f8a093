#ifndef CERTD_CERTD_H
#define CERTD_CERTD_H
#endif
