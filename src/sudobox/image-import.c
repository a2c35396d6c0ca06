/* placeholder: being written */
#include "util.h"
