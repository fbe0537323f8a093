#ifndef CERTD_COMMIT_H
#define CERTD_COMMIT_H
#endif
