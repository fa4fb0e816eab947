// //optim in one include: optimizers that turn a cost and parameters into
// updates, gradient transforms, and learning-rate schedules.
//
//   #include "optim/optim.h"
//   optim::Adam adam({.lr = 1e-3});
//   Function step = function({x, y}, {cost},
//                            {.updates = adam.minimize(cost, params)});
#ifndef THETA_OPTIM_OPTIM_H_
#define THETA_OPTIM_OPTIM_H_

#include "optim/adadelta.h"
#include "optim/adagrad.h"
#include "optim/adam.h"
#include "optim/adamw.h"
#include "optim/factory.h"
#include "optim/gradient_transforms.h"
#include "optim/hyper.h"
#include "optim/momentum.h"
#include "optim/nesterov.h"
#include "optim/optimizer.h"
#include "optim/rmsprop.h"
#include "optim/schedule.h"
#include "optim/sgd.h"

#endif  // THETA_OPTIM_OPTIM_H_
