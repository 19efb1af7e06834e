/* cairn/core.h - everything of the core module in one include. */
#ifndef CAIRN_CORE_H
#define CAIRN_CORE_H
#include "cairn/buf.h"
#include "cairn/error.h"
#include "cairn/hash.h"
#include "cairn/json.h"
#include "cairn/k8s.h"
#include "cairn/log.h"
#include "cairn/schema.h"
#include "cairn/util.h"
#include "cairn/yaml.h"
#endif
