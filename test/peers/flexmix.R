# flexmix as a peer for gmoe (issue 18): used by test/peers/flexmix.test.ts and bench/flexmix.ts.
#
#   Rscript flexmix.R export <dataset> <xcol> <ycol> <out.csv>
#       writes one of flexmix's data sets as gmoe's x1,y CSV (17 significant digits: every bit kept)
#   Rscript flexmix.R fit <data.csv> <k> <seed> <out.json> [varfix]
#       fits flexmix(y ~ x1, k, concomitant = FLXPmultinom(~ x1)) -- the softmax-gated Gaussian MoE --
#       (with varfix: model = FLXMRglmfix(varFix = TRUE), one variance shared by the components, gmoe's
#       --variance equal; the numerical Hessian is then over one shared nu)
#       from its defaults (set.seed(seed)) and writes: logLik, df, AIC, BIC, ICL (with the posterior
#       they were computed from: flexmix's logLik and posterior come from the E-step before its last
#       M-step, so logLikAtParams, the log-likelihood at the returned parameters, is a little higher), the fit mapped to
#       gmoe's parametrisation, and standard errors at that fit from the inverse of a numerical
#       Hessian of the log-likelihood in gmoe's natural parametrisation (Richardson-extrapolated
#       central differences, ~1e-9 relative; flexmix's own refit() uses optim's Hessian, ~1e-4).
#
# Mapping to gmoe: flexmix's concomitant coefficients are relative to component 1, gmoe's gate to
# its last expert, so gmoe's experts are flexmix's components 2..k, then 1 (the reference).
# flexmix's sigma is a standard deviation, gmoe's nu a variance.
suppressPackageStartupMessages({ library(flexmix); library(jsonlite) })

args <- commandArgs(trailingOnly = TRUE)
cmd <- args[1]

if (identical(cmd, "export")) {
  env <- new.env()
  data(list = args[2], package = "flexmix", envir = env)
  d <- get(args[2], envir = env)
  x <- as.numeric(d[[args[3]]]); y <- as.numeric(d[[args[4]]])
  lines <- c("x1,y", sprintf("%.17g,%.17g", x, y))
  writeLines(lines, args[5])
  quit(status = 0)
}
if (!identical(cmd, "fit")) stop("usage: flexmix.R export|fit ...")

d <- read.csv(args[2])
k <- as.integer(args[3]); seed <- as.integer(args[4]); out <- args[5]
varfix <- identical(args[6], "varfix")
dat <- data.frame(x1 = d$x1, y = d$y)
set.seed(seed)
cpu <- function() { p <- proc.time(); p[["user.self"]] + p[["sys.self"]] }
t0 <- proc.time()[["elapsed"]]; c0 <- cpu()
f <- if (varfix) {
  flexmix(y ~ x1, data = dat, k = k, model = FLXMRglmfix(varFix = TRUE), concomitant = FLXPmultinom(~ x1))
} else flexmix(y ~ x1, data = dat, k = k, concomitant = FLXPmultinom(~ x1))
seconds <- proc.time()[["elapsed"]] - t0; cpuSeconds <- cpu() - c0
kf <- f@k # flexmix may drop components that become too small
pe <- parameters(f)
pc <- parameters(f, which = "concomitant")
ord <- if (kf > 1) c(2:kf, 1) else 1
beta0 <- unname(pc[1, ord]); beta1 <- unname(pc[2, ord])
b <- unname(pe["coef.(Intercept)", ord]); a <- unname(pe["coef.x1", ord]); nu <- unname(pe["sigma", ord])^2

# log-likelihood in gmoe's natural parametrisation: gate (beta0_j, beta1_j) for j < k, then (a_j, b_j, nu_j)
pack <- function() {
  g <- if (kf > 1) as.vector(rbind(beta0[-kf], beta1[-kf])) else numeric(0)
  if (varfix) c(g, as.vector(rbind(a, b)), nu[1]) else c(g, as.vector(rbind(a, b, nu)))
}
loglik <- function(th) {
  ng <- 2 * (kf - 1)
  B0 <- c(if (kf > 1) th[seq(1, ng, 2)], 0); B1 <- c(if (kf > 1) th[seq(2, ng, 2)], 0)
  e <- if (varfix) {
    rbind(matrix(th[ng + seq_len(2 * kf)], nrow = 2), th[length(th)])
  } else matrix(th[-seq_len(ng)], nrow = 3)
  s <- outer(dat$x1, B1) + matrix(B0, nrow(dat), kf, byrow = TRUE)
  lse <- function(m) { mx <- apply(m, 1, max); mx + log(rowSums(exp(m - mx))) }
  logpi <- s - lse(s)
  mu <- outer(dat$x1, e[1, ]) + matrix(e[2, ], nrow(dat), kf, byrow = TRUE)
  lf <- -0.5 * log(2 * pi * matrix(e[3, ], nrow(dat), kf, byrow = TRUE)) - (dat$y - mu)^2 / (2 * matrix(e[3, ], nrow(dat), kf, byrow = TRUE))
  sum(lse(logpi + lf))
}
# Hessian by central second differences, Richardson-extrapolated over h, h/2, h/4, h/8
hessian <- function(fn, th) {
  P <- length(th); H <- matrix(0, P, P)
  for (i in 1:P) for (j in i:P) {
    D <- numeric(4)
    for (l in 1:4) {
      hi <- 1e-2 * max(abs(th[i]), 0.1) / 2^(l - 1); hj <- 1e-2 * max(abs(th[j]), 0.1) / 2^(l - 1)
      ei <- replace(numeric(P), i, hi); ej <- replace(numeric(P), j, hj)
      D[l] <- (fn(th + ei + ej) - fn(th + ei - ej) - fn(th - ei + ej) + fn(th - ei - ej)) / (4 * hi * hj)
    }
    for (m in 1:3) D <- (4^m * D[-1] - D[-length(D)]) / (4^m - 1)
    H[i, j] <- H[j, i] <- D[1]
  }
  H
}
th <- pack()
H <- hessian(loglik, th)
cov <- tryCatch(solve(-H), error = function(e) NULL)
se <- if (is.null(cov)) NULL else sqrt(pmax(diag(cov), 0))
labels <- c(if (kf > 1) as.vector(rbind(sprintf("beta0[%d]", 0:(kf - 2)), sprintf("beta1[%d][0]", 0:(kf - 2)))),
            if (varfix) c(as.vector(rbind(sprintf("a[%d][0]", 0:(kf - 1)), sprintf("b[%d]", 0:(kf - 1)))), "nu[0]")
            else as.vector(rbind(sprintf("a[%d][0]", 0:(kf - 1)), sprintf("b[%d]", 0:(kf - 1)), sprintf("nu[%d]", 0:(kf - 1)))))
# flexmix's own standard errors (optim's numerical Hessian), for information
c1 <- cpu()
refitSE <- tryCatch({
  r <- refit(f)
  lapply(r@components[[1]], function(m) unname(m[, "Std. Error"]))
}, error = function(e) NULL)
refitCpuSeconds <- cpu() - c1

res <- list(
  n = nrow(dat), k = k, kFitted = kf, seed = seed, seconds = seconds, cpuSeconds = cpuSeconds, iterations = f@iter, converged = f@converged,
  logLik = as.numeric(logLik(f)), logLikAtParams = loglik(th), df = f@df,
  AIC = AIC(f), BIC = BIC(f), ICL = ICL(f),
  model = list(beta0 = beta0, beta1 = beta1, a = a, b = b, nu = nu),
  # flexmix's posterior, from the same E-step as its logLik (gmoe's expert order), row-major n x k
  posterior = as.vector(t(posterior(f)[, ord, drop = FALSE])),
  # predictions at the returned parameters (gmoe predict's columns): per-component means, the
  # gate-weighted mean, the posterior and the clusters (0-based gmoe experts)
  predicted = list(
    components = as.vector(t(do.call(cbind, predict(f, newdata = dat))[, ord, drop = FALSE])),
    mean = as.vector(predict(f, newdata = dat, aggregate = TRUE)[[1]]),
    posterior = as.vector(t(posterior(f, newdata = dat)[, ord, drop = FALSE])),
    expert = match(clusters(f, newdata = dat), ord) - 1
  ),
  se = list(labels = labels, values = se), refitSE = refitSE, refitCpuSeconds = refitCpuSeconds
)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, null = "null"), out)
