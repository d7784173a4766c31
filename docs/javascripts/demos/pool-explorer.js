/* pool-explorer: in progress */
