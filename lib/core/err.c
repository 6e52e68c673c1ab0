/* err.c - names of enum pd_err values, for logs. */
#include "err.h"

const char *pd_strerror(int rc)
{
    switch (rc) {
    case PD_OK:
        return "OK";
    case PD_EINVAL:
        return "EINVAL";
    case PD_ENOTFOUND:
        return "ENOTFOUND";
    case PD_ECONFLICT:
        return "ECONFLICT";
    case PD_EDENIED:
        return "EDENIED";
    case PD_ESIG:
        return "ESIG";
    case PD_ETOOBIG:
        return "ETOOBIG";
    case PD_ENOTIMPL:
        return "ENOTIMPL";
    case PD_EINTERNAL:
        return "EINTERNAL";
    case PD_EAWS:
        return "EAWS";
    case PD_EIO:
        return "EIO";
    case PD_EBUSY:
        return "EBUSY";
    }
    return "E?";
}
