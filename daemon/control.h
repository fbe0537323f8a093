#ifndef CERTD_CONTROL_H
#define CERTD_CONTROL_H
#endif
