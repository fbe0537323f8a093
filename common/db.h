#ifndef CERTD_DB_H
#define CERTD_DB_H
#endif
