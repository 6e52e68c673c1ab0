/*
 * region.h - AWS region names: which are real, and which partition's global endpoints sign
 * for which region.
 *
 * A credential scope must name a real region (SigV4), and a host name podiam serves names
 * one (sts.REGION.amazonaws.com). The list is AWS's public regions of the aws, aws-cn and
 * aws-us-gov partitions as of 2026; a region AWS opens later is one line to add.
 */
#ifndef PD_CORE_REGION_H
#define PD_CORE_REGION_H

#include <stddef.h>

/* Is s[0..n) the name of an AWS region ("us-east-1")? */
int pd_region_known(const char *s, size_t n);

#endif
