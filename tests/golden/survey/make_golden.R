# Golden values for the scoring estimates: R survey (Lumley) on data.csv (see make_data.py).
# Run: cd tests/golden/survey && Rscript make_golden.R   (Debian: r-base-core, r-cran-survey)
# Writes golden.csv: domain, estimand, value, se. The Rust tests compare to 1e-6; they do not
# need R.
suppressMessages(library(survey))
options(survey.lonely.psu = "adjust")
d <- read.csv("data.csv", na.strings = "")
des <- svydesign(ids = ~outlet, strata = ~stratum, weights = ~w, fpc = ~f, data = d)
out <- data.frame(domain = character(), estimand = character(), value = numeric(), se = numeric())
add <- function(domain, estimand, value, se) {
  out <<- rbind(out, data.frame(domain = domain, estimand = estimand, value = value, se = se))
}
for (v in c("y1", "y2", "y3")) {
  f <- as.formula(paste0("~", v))
  m <- svymean(f, des, na.rm = TRUE)
  add("all", v, coef(m)[[1]], SE(m)[[1]])
  b <- svyby(f, ~stratum, des, svymean, na.rm = TRUE)
  add(as.character(b$stratum), v, coef(b), SE(b))
}
# A linear combination of the three item means (an indicator): ratios with their joint
# covariance, then svycontrast.
for (i in 1:3) {
  y <- d[[paste0("y", i)]]
  d[[paste0("n", i)]] <- ifelse(is.na(y), 0, y)
  d[[paste0("d", i)]] <- as.numeric(!is.na(y))
}
des2 <- svydesign(ids = ~outlet, strata = ~stratum, weights = ~w, fpc = ~f, data = d)
r <- svyratio(~n1 + n2 + n3, ~d1 + d2 + d3, des2, covmat = TRUE)
cf <- setNames(rep(0, 9), names(coef(r)))
cf[c("n1/d1", "n2/d2", "n3/d3")] <- c(0.5, 0.3, 0.2)
k <- svycontrast(r, cf)
add("all", "0.5*y1+0.3*y2+0.2*y3", coef(k)[[1]], SE(k)[[1]])
# Per outlet: the outlet's interviews as a simple random sample of its M customers.
for (o in sort(unique(d$outlet))) {
  s <- d[d$outlet == o & d$source == "interview" & !is.na(d$y1), ]
  if (nrow(s) < 2) next
  od <- svydesign(ids = ~1, fpc = ~M, data = s)
  m <- svymean(~y1, od)
  add(paste0("outlet:", o), "y1", coef(m)[[1]], SE(m)[[1]])
}
write.csv(format(out, digits = 15), "golden.csv", row.names = FALSE, quote = FALSE)
cat("R", R.version.string, "survey", as.character(packageVersion("survey")), "\n")
