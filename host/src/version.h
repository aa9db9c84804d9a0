#pragma once
#include <dicomd/abi.h>
#define DICOMD_VERSION "0.1.0"
