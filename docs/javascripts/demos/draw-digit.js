/* draw-digit: in progress */
